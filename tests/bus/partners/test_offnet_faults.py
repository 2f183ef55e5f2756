"""Faults between providers across two real domains (issue #3 item 6): an off-net EPL is both parts or
nothing. A partner that refuses our order fails the customer's EVC with its reason and our segment is
released over LEGATO; a partner share whose other half failed is withdrawn by a SONATA delete order."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from lso.bus.partners.offnet_faults import (
    WITHDRAWN,
    release_key,
    undo_lone_halves,
    withdrawal_key,
)
from lso.bus.partners.ordering import start_partner_order
from lso.bus.sonata_client import SonataClient
from tests.bus.partners.test_offnet_preorder import PARIS_BERCY
from tests.bus.partners.test_onboarding import registration
from tests.bus.partners.test_partner_order import DUE, PARTNER_SITE, onboarded, partner_orders, registered
from tests.bus.test_order_bodies import INVENTORY, ORDERING, epl_order, with_uni_z_at
from tests.bus.test_order_fulfilment import _final
from tests.harness import wait_until
from tests.twodomains import PARTNER_BUYER, PartnerDomain

LEGATO_ORDERING = "/mefApi/legato/serviceOrderingManagement/v6"
LEGATO_INVENTORY = "/mefApi/legato/serviceInventory/v7"
SONATA_INVENTORY = "/mefApi/sonata/productInventory/v8"
PUTEAUX = {
    "@type": "GeographicAddress_Query",
    "fieldedAddressRepresentation": [
        {"streetNr": "1", "streetName": "Parvis de la Defense", "streetType": "Place", "city": "Puteaux",
         "postcode": "92800", "countryCode": "FR"}
    ],
}  # fmt: skip
"""La Défense: only the refusing partner below serves Puteaux, so no other test's partner is chosen."""


def test_a_refusing_partner_fails_our_evc_and_our_segment_is_released(
    acme: httpx.Client, admin: httpx.Client, bus: httpx.Client, sonata_partner: PartnerDomain
) -> None:
    # An ENNI the partner does not know: it refuses the order (422 referenceNotFound), which is not retried.
    enni = [{"element": "pe-ldn-2", "port": "enni-1", "partnerEnniId": "enni-nobody-knows"}]
    name = registered(admin, registration(sonata_partner, enni=enni, policies={"areas": ["FR/Puteaux"]}))
    created = acme.post(f"{ORDERING}/productOrder", json=with_uni_z_at(epl_order(), PUTEAUX))
    assert created.status_code == 201, created.text
    order = _final(acme, created.json()["id"])
    items = {item["id"]: item for item in order["productOrderItem"]}
    assert order["state"] == "partial", order
    assert items["uni-a"]["state"] == "completed"
    for item_id in ("evc", "uni-z"):
        assert items[item_id]["state"] == "failed"
        reason = items[item_id]["terminationError"][0]["value"]
        assert f"partner {name}" in reason and "enni-nobody-knows" in reason, reason
    assert "our segment" in items["evc"]["terminationError"][0]["value"]
    # our EVC service, built by SOF, is deleted again by one LEGATO order
    releases = bus.get(
        f"{LEGATO_ORDERING}/serviceOrder", params={"externalId": release_key(order["id"], "evc")}
    )
    assert len(releases.json()) == 1, releases.text
    release = wait_until(
        lambda: (
            (o := bus.get(f"{LEGATO_ORDERING}/serviceOrder/{releases.json()[0]['id']}").json())["state"]
            == "completed"
            and o
        )
    )
    service_id = release["serviceOrderItem"][0]["service"]["id"]
    assert bus.get(f"{LEGATO_INVENTORY}/service/{service_id}").json()["state"] == "terminated"
    assert set(_products_of(acme, order["id"])) == {"uni-a"}  # the customer's inventory has no EPL


def _products_of(acme: httpx.Client, order_id: str) -> dict[str, dict[str, Any]]:
    """The customer's products from ``order_id``, by the order item that created them."""
    found = acme.get(f"{INVENTORY}/product", params={"productOrderId": order_id}).json()
    products = [acme.get(f"{INVENTORY}/product/{p['id']}").json() for p in found]
    return {p["productOrderItem"][0]["productOrderItemId"]: p for p in products}


def _partner_products(partner: PartnerDomain, ids: list[str]) -> dict[str, str]:
    client = SonataClient.connect(partner.base_url, *PARTNER_BUYER)
    try:
        return {i: client.http.get(f"{SONATA_INVENTORY}/product/{i}").json()["status"] for i in ids}
    finally:
        client.close()


def test_a_completed_partner_share_is_withdrawn_once_when_our_segment_failed(
    admin: httpx.Client, sonata_partner: PartnerDomain
) -> None:
    partner_id = onboarded(admin, sonata_partner)
    order_id = f"order-{uuid.uuid4()}"
    link = start_partner_order(order_id, "evc", partner_id, PARTNER_SITE, 20.0, 0.0, DUE).get_result()
    assert link["state"] == "completed", link
    ours_failed: dict[str, Any] = {"state": "failed", "item": {"evc": {"state": "failed", "serviceId": None}}}
    shares = [{"item_id": "evc", "partner_id": partner_id, "uni_item_id": "uni-z"}]
    settled_links = undo_lone_halves(order_id, ours_failed, shares, {"evc": link})
    assert settled_links["evc"]["state"] == WITHDRAWN
    assert undo_lone_halves(order_id, ours_failed, shares, {"evc": link}) == settled_links  # a re-run
    withdrawals = partner_orders(sonata_partner, withdrawal_key(order_id, "evc"))
    assert len(withdrawals) == 1  # one delete order however often the step runs
    products = [i["productId"] for i in link["partnerOrderItem"]]
    assert all(products), link
    wait_until(lambda: set(_partner_products(sonata_partner, products).values()) == {"terminated"})


def test_the_off_net_epl_relies_on_the_partner_product_in_inventory(
    acme: httpx.Client, admin: httpx.Client, sonata_partner: PartnerDomain
) -> None:
    onboarded(admin, sonata_partner)
    body = with_uni_z_at(epl_order(cir_mbps=30), PARIS_BERCY)
    order = _final(acme, acme.post(f"{ORDERING}/productOrder", json=body).json()["id"])
    assert order["state"] == "completed", order
    notes = {note["id"]: note["text"] for note in order.get("note", [])}
    assert "product order" in notes["partner-order-evc"] and "partner-ovc" in notes["partner-order-evc"]
    relations = _products_of(acme, order["id"])["evc"]["productRelationship"]
    relied = [r for r in relations if r["relationshipType"] == "RELIES_ON"]
    assert len(relied) == 1 and relied[0]["href"].startswith(sonata_partner.base_url)
    assert _partner_products(sonata_partner, [relied[0]["id"]]) == {relied[0]["id"]: "active"}
