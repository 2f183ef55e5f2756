"""The S-VLAN at the ENNI of an off-net EPL across two real domains (issue #3 item 4): BUS agrees one
S-VLAN before either network configures, names it on our LEGATO EVC item and states it in the partner's
SONATA order; a taken S-VLAN fails the item with ICM's reason."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy.orm import Session

from lso.bus.order.inventory import product_id
from lso.bus.partners.enni_svlan import HELD, S_VLANS
from lso.db import Database
from lso.footprint import named_footprint
from lso.settings import Settings
from lso.sof.presto_client import PrestoClient
from tests.bus.partners.test_offnet_change import _evc_service, partner_product, relied_on
from tests.bus.partners.test_offnet_preorder import PARIS_BERCY
from tests.bus.partners.test_partner_order import onboarded
from tests.bus.test_order_bodies import ORDERING, epl_order
from tests.bus.test_order_fulfilment import _final
from tests.harness import internal_client
from tests.twodomains import PartnerDomain

ENNI = "enni-carrier-x-1"


def test_our_evc_and_the_partner_ovc_hold_one_s_vlan_at_the_enni(
    bus: httpx.Client, off_net_epl: dict[str, Any], sonata_partner: PartnerDomain
) -> None:
    ours = _s_vlan_of(_evc_service(bus, off_net_epl["evc"]))
    ovc = partner_product(sonata_partner, relied_on(off_net_epl["evc"]))
    # The partner's product shows the S-VLAN its own SOF allocated on its side of the ENNI.
    assert ovc["productConfiguration"]["enniEp"]["ovcEndPointMap"]["ovcEndPointMapFormE"] == [ours]
    # Chosen, not a coincidence of two pools handing out their lowest free S-VLAN (100 up).
    assert ours > min(_range())


def test_a_taken_s_vlan_fails_the_item_and_is_given_back(
    acme: httpx.Client, admin: httpx.Client, domain: Settings, sonata_partner: PartnerDomain
) -> None:
    onboarded(admin, sonata_partner)
    vlan = _next_agreed(domain)
    key = f"test-taken-{uuid.uuid4().hex}"
    with internal_client(domain, "sof") as http:
        presto = PrestoClient(http)
        presto.allocate_sip(ENNI, key, 100, vlan)  # taken at our ICM behind BUS's back
        try:
            body = epl_order("site-ldn-docklands", "site-ldn-city", 20)
            body["productOrderItem"][1]["product"]["place"][0]["place"] = PARIS_BERCY
            created = acme.post(f"{ORDERING}/productOrder", json=body)
            assert created.status_code == 201, created.text
            order = _final(acme, created.json()["id"])
        finally:
            presto.release_sip(key)
    evc = next(i for i in order["productOrderItem"] if i["id"] == "evc")
    assert evc["state"] == "failed", order
    assert f"S-VLAN {vlan} at ENNI {ENNI} is taken by {key}" in evc["terminationError"][0]["value"], evc
    with _read(domain) as session:  # nothing built: the S-VLAN is free for the next
        assert S_VLANS.by_external_id(session, product_id(order["id"], "evc")) is None


def _s_vlan_of(service: dict[str, Any]) -> int:
    return int(next(c["value"] for c in service["serviceCharacteristic"] if c["name"] == "sVlanId"))


def _range() -> tuple[int, ...]:
    return next(e.vlans for e in named_footprint("demo").ennis if e.id == ENNI)


def _next_agreed(domain: Settings) -> int:
    """The S-VLAN BUS agrees next at the ENNI: the highest it does not hold."""
    with _read(domain) as session:
        held = {int(row["sVlanId"]) for row in S_VLANS.children(session, ENNI, state=HELD)}
    return max(v for v in _range() if v not in held)


@contextmanager
def _read(domain: Settings) -> Iterator[Session]:
    """A look at the provider domain's database."""
    db = Database(domain.database_url)
    try:
        with db.read() as session:
            yield session
    finally:
        db.dispose()
