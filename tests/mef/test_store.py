"""The resource store: party scoping, filters, paging order, conflicts and the audit trail."""

from __future__ import annotations

from pathlib import Path

import pytest

from lso.db import Database, migrate
from lso.mef.errors import MefError
from lso.mef.store import Store
from lso.security.audit import trail


@pytest.fixture
def db(tmp_path: Path) -> Database:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    migrate(url)
    return Database(url)


def test_a_resource_of_another_party_is_absent(db: Database) -> None:
    orders = Store("test.order", "productOrder")
    with db.session() as session:
        doc = orders.add(session, {"state": "acknowledged"}, party="acme")
    with db.session() as session:
        assert orders.get(session, doc["id"], "acme")["state"] == "acknowledged"
        assert orders.find(session, doc["id"], "globex") is None
        with pytest.raises(MefError) as error:
            orders.get(session, doc["id"], "globex")
    assert error.value.status == 404


def test_duplicate_id_is_a_conflict_and_writes_nothing(db: Database) -> None:
    orders = Store("test.order")
    with db.session() as session:
        orders.add(session, {"id": "o-1", "state": "acknowledged"}, party="acme")
    with pytest.raises(MefError) as error, db.session() as session:
        orders.add(session, {"id": "o-1", "state": "inProgress"}, party="acme")
    assert error.value.status == 409
    with db.session() as session:
        assert orders.get(session, "o-1")["state"] == "acknowledged"


def test_list_filters_on_columns_and_document_paths_and_pages_newest_first(db: Database) -> None:
    orders = Store("test.order")
    with db.session() as session:
        for n in range(5):
            doc = {
                "id": f"o-{n}",
                "state": "completed" if n % 2 else "inProgress",
                "externalId": f"ext-{n}",
                "orderDate": f"2026-01-0{n + 1}T00:00:00.000Z",
                "productOffering": {"id": "epl" if n < 3 else "evpl"},
            }
            orders.add(session, doc, party="acme")
        orders.add(session, {"id": "other", "state": "completed"}, party="globex")
    with db.session() as session:
        completed, total = orders.list(
            session, party="acme", filters={"state": "completed"}, offset=0, limit=10
        )
        assert total == 2 and {d["id"] for d in completed} == {"o-1", "o-3"}
        nested, _ = orders.list(
            session, party="acme", filters={"productOffering.id": "evpl"}, offset=0, limit=10
        )
        assert {d["id"] for d in nested} == {"o-3", "o-4"}
        later, _ = orders.list(
            session, party="acme", filters={"orderDate.gt": "2026-01-03T00:00:00.000Z"}, offset=0, limit=10
        )
        assert {d["id"] for d in later} == {"o-3", "o-4"}
        page, total = orders.list(session, party="acme", filters={}, offset=1, limit=2)
        assert total == 5 and [d["id"] for d in page] == ["o-3", "o-2"]
        assert orders.by_external_id(session, "ext-2", "acme")["id"] == "o-2"  # type: ignore[index]


def test_every_write_is_audited(db: Database) -> None:
    orders = Store("test.order")
    with db.session() as session:
        doc = orders.add(session, {"state": "acknowledged"}, party="acme")
        doc["state"] = "inProgress"
        orders.put(session, doc, actor="lso-bus")
    with db.session() as session:
        records = trail(session, "test.order", doc["id"])
    assert [(r.actor, r.action, r.state) for r in records] == [
        ("acme", "create", "acknowledged"),
        ("lso-bus", "update", "inProgress"),
    ]
