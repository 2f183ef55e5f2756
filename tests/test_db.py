"""The embedded database's writer gate (lso.db.GatedConnection): the writers of one process take turns at
a Python lock before SQLite's, and every way a transaction ends gives the turn back."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import text

from lso.db import Database, GatedConnection, _gate_of, migrate, sqlite_connect_args
from lso.domain import dbos_sqlite_engine
from lso.mef.store import Store

COUNTERS = Store("test.counter")


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'lso.sqlite'}"
    migrate(url)
    database = Database(url)
    yield database
    database.dispose()


def _gate_free(path: Path) -> bool:
    """Whether another writer of this process could go now (and leave the gate as it was)."""
    gate = _gate_of(str(path))
    if gate.acquire(blocking=False):
        gate.release()
        return True
    return False


def test_concurrent_read_modify_writes_each_see_the_last(db: Database, tmp_path: Path) -> None:
    with db.session() as session:
        COUNTERS.add(session, {"id": "c", "value": 0})

    def increment(_: int) -> None:
        with db.session() as session:
            counter = COUNTERS.get(session, "c")
            counter["value"] += 1
            COUNTERS.put(session, counter)

    with ThreadPoolExecutor(max_workers=12) as pool:
        list(pool.map(increment, range(240)))
    with db.read() as session:
        assert COUNTERS.get(session, "c")["value"] == 240
    assert _gate_free(tmp_path / "lso.sqlite")


def test_a_write_holds_the_gate_until_it_ends_and_a_read_never_takes_it(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "lso.sqlite"
    with db.read() as session:
        COUNTERS.find(session, "c")
        assert _gate_free(path)
    with db.session() as session:
        COUNTERS.add(session, {"id": "c", "value": 0})
        assert not _gate_free(path)
    assert _gate_free(path)
    with pytest.raises(RuntimeError), db.session() as session:
        COUNTERS.add(session, {"id": "d", "value": 0})
        raise RuntimeError("the unit of work fails: rolled back")
    assert _gate_free(path)
    with db.read() as session:
        assert COUNTERS.find(session, "d") is None


def test_a_write_outside_a_transaction_and_a_failed_write_give_the_gate_back(tmp_path: Path) -> None:
    path = tmp_path / "raw.sqlite"
    args = sqlite_connect_args()
    connection = args.pop("factory")(str(path), **args)
    assert isinstance(connection, GatedConnection)
    connection.isolation_level = None  # autocommit: each statement is its own transaction
    cursor = connection.cursor()
    cursor.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    cursor.execute("INSERT INTO t VALUES (1)")
    assert _gate_free(path)
    with pytest.raises(Exception, match="UNIQUE"):
        cursor.execute("INSERT INTO t VALUES (1)")
    assert _gate_free(path)
    cursor.execute("BEGIN IMMEDIATE")
    cursor.execute("INSERT INTO t VALUES (2)")
    assert not _gate_free(path)
    connection.close()  # with the transaction open: rolled back
    assert _gate_free(path)


def test_dbos_implicit_transactions_take_and_give_back_the_gate(tmp_path: Path) -> None:
    path = tmp_path / "dbos.sqlite"
    engine = dbos_sqlite_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
    with engine.begin() as connection:
        connection.execute(text("SELECT count(*) FROM t"))
        assert _gate_free(path)  # pysqlite opens no transaction for a read
        connection.execute(text("INSERT INTO t VALUES (1)"))
        assert not _gate_free(path)
    assert _gate_free(path)
    with engine.connect() as connection:  # a connection that goes on after its commit
        connection.execute(text("INSERT INTO t VALUES (3)"))
        connection.commit()
        assert _gate_free(path)
    started, release = threading.Event(), threading.Event()

    def writer() -> None:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO t VALUES (2)"))
            started.set()
            release.wait(timeout=30)

    thread = threading.Thread(target=writer)
    thread.start()
    assert started.wait(timeout=30)
    assert not _gate_free(path)
    release.set()
    thread.join(timeout=30)
    with engine.begin() as connection:
        assert connection.execute(text("SELECT count(*) FROM t")).scalar_one() == 3
    assert _gate_free(path)
    engine.dispose()
