"""Constrained shortest paths and resource allocation on ICM's own store (no HTTP)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from lso.db import Database, migrate
from lso.footprint import demo_footprint
from lso.icm import resources, topology
from lso.mef.errors import MefError


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    url = f"sqlite:///{tmp_path / 'icm.db'}"
    migrate(url)
    db = Database(url)
    with db.session() as session:
        topology.seed(session, demo_footprint())
        topology.seed(session, demo_footprint())
        yield session
    db.dispose()


def test_shortest_route_by_distance(session: Session) -> None:
    route = topology.shortest_route(session, "pe-bri-1", "pe-bir-1", 1000)
    assert route is not None
    assert route.elements == ("pe-bri-1", "p-bir", "pe-bir-1")
    assert route.distance_km == 145
    assert route.hop_count == 2


def test_a_full_link_moves_the_route_or_leaves_none(session: Session) -> None:
    direct = topology.shortest_route(session, "pe-bri-1", "pe-bir-1", 30_000)
    assert direct is not None
    resources.reserve_bandwidth(session, direct, "svc-big", 30_000)
    # pe-bri-1—p-bir (40 G) now has 10 G free: 20 G must go round by London.
    detour = topology.shortest_route(session, "pe-bri-1", "pe-bir-1", 20_000)
    assert detour is not None
    assert detour.elements == ("pe-bri-1", "p-ldn", "p-bir", "pe-bir-1")
    resources.reserve_bandwidth(session, detour, "svc-detour", 20_000)
    # Bristol's two 40 G links now have 10 G (to p-bir) and 20 G (to p-ldn) free: 25 G has no route.
    assert topology.shortest_route(session, "pe-bri-1", "pe-bir-1", 25_000) is None
    with pytest.raises(MefError):
        resources.reserve_bandwidth(session, direct, "svc-more", 20_000)
    resources.release_bandwidth(session, list(direct.links), "svc-big")
    again = topology.shortest_route(session, "pe-bri-1", "pe-bir-1", 25_000)
    assert again is not None and again.elements == direct.elements


def test_sip_allocation_by_key(session: Session) -> None:
    first = resources.allocate_sip(session, "site-bir-hub", "order-1/uni-a", 1000)
    assert resources.allocate_sip(session, "site-bir-hub", "order-1/uni-a", 1000)["id"] == first["id"]
    second = resources.allocate_sip(session, "site-bir-hub", "order-2/uni-a", 1000)
    assert (first["port"], second["port"]) == ("uni-1", "uni-2")
    on_net, free = resources.count_free_sips(session, "site-bir-hub")
    assert on_net and free == 118
    resources.use_sip(session, first["id"], "svc-1")
    with pytest.raises(MefError) as in_use:
        resources.release_sip(session, "order-1/uni-a")
    assert in_use.value.status == 409
    resources.return_sip(session, first["id"], "svc-1")
    resources.release_sip(session, "order-1/uni-a")
    resources.release_sip(session, "order-1/uni-a")
    assert resources.count_free_sips(session, "site-bir-hub") == (True, 119)
    with pytest.raises(MefError) as too_fast:
        resources.allocate_sip(session, "site-bir-hub", "order-3", 100_000)
    assert too_fast.value.status == 409


def test_vnis_are_unique_reused_after_release_and_idempotent(session: Session) -> None:
    a = resources.allocate_vni(session, "svc-a")
    b = resources.allocate_vni(session, "svc-b")
    assert resources.allocate_vni(session, "svc-a") == a
    assert a != b
    resources.release_vni(session, a, "svc-a")
    assert resources.allocate_vni(session, "svc-c") == a
    assert resources.allocate_vni(session, "svc-d") not in (a, b)
