"""The application database: engine, sessions and migrations.

Every entity keeps its resources in the tables declared on :class:`Base`; sessions are always passed
explicitly (no global session). Migrations are Alembic revisions under ``lso/migrations`` and are applied
on start by :func:`migrate`.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker


class Base(DeclarativeBase):
    """Declarative base of every table of a domain."""


SQLITE_BUSY_TIMEOUT_S = 30.0


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args=sqlite_connect_args())
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    return create_engine(url, pool_size=20, max_overflow=20, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers proceed while a writer commits; NORMAL sync is durable across process crashes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
    # Let SQLAlchemy's "begin" event (below) open transactions instead of the driver's implicit ones.
    dbapi_connection.isolation_level = None


def _sqlite_begin_immediate(connection: Any) -> None:
    # A deferred transaction that reads and then writes fails at once (SQLITE_BUSY_SNAPSHOT) when another
    # writer committed in between; taking the write lock up front makes it wait its turn instead. Pure
    # reads (Database.read) stay deferred so they never queue behind writers.
    if connection.get_execution_options().get("sqlite_read_only"):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def sqlite_connect_args() -> dict[str, Any]:
    """How every engine of a domain connects to an SQLite file: from any thread, with writers of this
    process taking turns at :class:`GatedConnection`'s gate."""
    return {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S, "factory": GatedConnection}


_gates: dict[str, threading.Lock] = {}
_gates_lock = threading.Lock()


def _gate_of(database: str) -> threading.Lock:
    with _gates_lock:
        return _gates.setdefault(database, threading.Lock())


class GatedConnection(sqlite3.Connection):
    """A connection that writes only while it holds its file's gate: one writer per file in a process.

    SQLite has one write lock per file. A connection that finds it taken sleeps in SQLite's busy handler
    (1 ms, then longer, up to 100 ms a try) and goes on sleeping after the lock is free: with dozens of
    threads checkpointing workflow steps, the lock stood idle between those sleeps while requests queued
    (p99 twice the p50 in benchmarks/order_throughput.py). Waiting on a Python lock hands the turn over
    as the writer commits; only other processes on the same file still meet the busy handler. The gate is
    taken before a transaction's first write (``BEGIN IMMEDIATE``, or a write pysqlite opens a transaction
    for) and given back once it has committed or rolled back."""

    _WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "BEGIN IMMEDIATE", "BEGIN EXCLUSIVE")

    def __init__(self, database: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(database, *args, **kwargs)
        self._gate = _gate_of(str(database))
        self._holding = False

    def cursor(self, factory: Any = None) -> _GatedCursor:  # type: ignore[override]
        # whatever cursor is asked for: a write through any of them must take the gate
        return super().cursor(_GatedCursor)

    def take_gate(self, statement: str) -> None:
        if self._holding or self.in_transaction:
            return
        if statement.lstrip()[:15].upper().startswith(self._WRITES):
            # past the busy timeout, SQLite's own wait decides (and reports "database is locked")
            self._holding = self._gate.acquire(timeout=SQLITE_BUSY_TIMEOUT_S)

    def give_back(self) -> None:
        if self._holding and not self.in_transaction:
            self._holding = False
            self._gate.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.give_back()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.give_back()

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self._holding:
                self._holding = False
                self._gate.release()


class _GatedCursor(sqlite3.Cursor):
    connection: GatedConnection

    def execute(self, sql: str, parameters: Any = (), /) -> Self:
        self.connection.take_gate(sql)
        try:
            return super().execute(sql, parameters)
        finally:
            self.connection.give_back()  # unless a transaction is open: a write in autocommit, a failure

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> Self:
        self.connection.take_gate(sql)
        try:
            return super().executemany(sql, seq_of_parameters)
        finally:
            self.connection.give_back()


class Database:
    """An engine and its session factory."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._readers = sessionmaker(
            self.engine.execution_options(sqlite_read_only=True), expire_on_commit=False
        )

    @contextmanager
    def session(self, serialize: str | None = None) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back if it raises.

        ``serialize`` names a lock held until the end of the transaction, for read-modify-write work that
        concurrent processes must not interleave (e.g. allocating a free port). SQLite transactions are
        already serial; on PostgreSQL it is a transaction-scoped advisory lock.
        """
        with self._sessions.begin() as session:
            if serialize and not self.url.startswith("sqlite"):
                session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": serialize})
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work: sees one consistent snapshot and never waits for writers.

        Never hold a session (either kind) across a call to another entity: it may need the same lock.
        """
        with self._readers.begin() as session:
            yield session
            session.rollback()

    def dispose(self) -> None:
        self.engine.dispose()


def migrate(url: str) -> None:
    """Bring the schema to the newest Alembic revision."""
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.attributes["url"] = url
    command.upgrade(config, "head")
