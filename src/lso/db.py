"""The application database: engine, sessions and migrations.

Every entity keeps its resources in the tables declared on :class:`Base`; sessions are always passed
explicitly (no global session). Migrations are Alembic revisions under ``lso/migrations`` and are applied
on start by :func:`migrate`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker


class Base(DeclarativeBase):
    """Declarative base of every table of a domain."""


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
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
