"""Modify and disconnect of an off-net EPL across two real domains (issue #3 item 2): our segment changes
over LEGATO and the partner's OVC over SONATA, and the customer's item completes only when both did."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx

from lso.bus.partners.offnet import OVC_ITEM, delete_items, order_body
from lso.bus.partners.offnet_faults import restore_key
from lso.bus.sonata_client import SonataClient
from lso.footprint import named_footprint
from lso.settings import Settings
from tests.bus.partners.test_partner_order import DUE
from tests.bus.test_order_bodies import ORDERING, change_order, delete_item, modify_item
from tests.bus.test_order_change import LEGATO_INVENTORY, cir_of, product, uni_port_cirs
from tests.bus.test_order_fulfilment import _final
from tests.harness import internal_client, wait_until
from tests.network import held_by_elements
from tests.twodomains import PARTNER_BUYER, PARTNER_FOOTPRINT, PartnerDomain

SONATA_INVENTORY = "/mefApi/sonata/productInventory/v8"
LEGATO_ORDERING = "/mefApi/legato/serviceOrderingManagement/v6"


def relied_on(our_product: dict[str, Any]) -> str:
    """The partner's product our product relies on."""
    return str(
        next(r["id"] for r in our_product["productRelationship"] if r["relationshipType"] == "RELIES_ON")
    )


def partner_product(partner: PartnerDomain, product_id: str) -> dict[str, Any]:
    client = SonataClient.connect(partner.base_url, *PARTNER_BUYER)
    try:
        found: dict[str, Any] = client.http.get(f"{SONATA_INVENTORY}/product/{product_id}").json()
        return found
    finally:
        client.close()


def partner_settings(partner: PartnerDomain) -> Settings:
    """The partner domain's settings as its own process loaded them (its secret is in its data dir)."""
    address = urlsplit(partner.base_url)
    return Settings.load(partner.data_dir, port=address.port, footprint=PARTNER_FOOTPRINT)


def configured_services(settings: Settings) -> set[str]:
    """The connectivity services the network elements of a domain hold (ADAGIO, as its ICM sees it)."""
    with internal_client(settings, "icm") as icm:
        return {
            config["serviceId"]
            for element in named_footprint(settings.footprint).elements
            for config in icm.get(f"/adagio/v1/elements/{element.id}/configurations").json()
        }


def test_a_modify_changes_our_segment_and_the_partner_ovc(
    acme: httpx.Client, off_net_epl: dict[str, Any], sonata_partner: PartnerDomain
) -> None:
    evc = off_net_epl["evc"]
    ovc_id = relied_on(evc)
    assert _ovc_cir(partner_product(sonata_partner, ovc_id)) == 30
    order = acme.post(f"{ORDERING}/productOrder", json=change_order(modify_item("more", evc["id"], 80)))
    assert order.status_code == 201, order.text
    done = _final(acme, order.json()["id"])
    assert done["state"] == "completed", done
    assert cir_of(product(acme, evc["id"])) == 80  # ours
    ovc = partner_product(sonata_partner, ovc_id)  # the partner's
    assert ovc["status"] == "active" and _ovc_cir(ovc) == 80, ovc
    notes = {note["id"]: note["text"] for note in done.get("note", [])}
    assert "(modify) changes partner" in notes["partner-order-more"]


def test_a_disconnect_terminates_both_inventories_and_empties_both_networks(
    acme: httpx.Client,
    bus: httpx.Client,
    icm: httpx.Client,
    off_net_epl: dict[str, Any],
    sonata_partner: PartnerDomain,
) -> None:
    evc, uni_a, uni_z = off_net_epl["evc"], off_net_epl["uni-a"], off_net_epl["uni-z"]
    theirs = [relied_on(evc), relied_on(uni_z)]  # the partner's OVC and operator UNI
    service = _evc_service(bus, evc)
    connectivity = _connectivity(service)
    assert held_by_elements(icm, connectivity)
    partner = partner_settings(sonata_partner)
    held_by_partner = configured_services(partner)

    # The EPL alone cannot be disconnected: its UNI at the partner's site goes with it.
    alone = acme.post(f"{ORDERING}/productOrder", json=change_order(delete_item("gone", evc["id"])))
    assert alone.status_code == 422, alone.text
    assert uni_z["id"] in alone.json()[0]["message"]

    done = _disconnected(acme, off_net_epl)
    assert done["state"] == "completed", done
    assert {product(acme, p["id"])["status"] for p in (evc, uni_a, uni_z)} == {"terminated"}
    assert {partner_product(sonata_partner, p)["status"] for p in theirs} == {"terminated"}
    assert bus.get(f"{LEGATO_INVENTORY}/service/{service['id']}").json()["state"] == "terminated"
    assert held_by_elements(icm, connectivity) == {}
    assert len(held_by_partner - configured_services(partner)) == 1  # the partner's OVC, and nothing else


def _disconnected(acme: httpx.Client, off_net_epl: dict[str, Any]) -> dict[str, Any]:
    """The final state of the order that disconnects the EPL with both its UNIs."""
    items = [delete_item(f"d-{item}", off_net_epl[item]["id"]) for item in ("evc", "uni-a", "uni-z")]
    order = acme.post(f"{ORDERING}/productOrder", json=change_order(*items))
    assert order.status_code == 201, order.text
    return _final(acme, order.json()["id"])


def _evc_service(bus: httpx.Client, evc: dict[str, Any]) -> dict[str, Any]:
    """Our EVC service (SOF's) that realises the EPL product ``evc``."""
    order_id = evc["productOrderItem"][0]["productOrderId"]
    services = bus.get(f"{LEGATO_INVENTORY}/service", params={"externalId": order_id}).json()
    return dict(next(s for s in services if s["serviceOrderItem"][0]["itemId"] == "evc"))


def _connectivity(service: dict[str, Any]) -> str:
    """The connectivity service (ICM's) that realises one of SOF's services."""
    return str(
        next(c["value"] for c in service["serviceCharacteristic"] if c["name"] == "connectivityService")
    )


def _ovc_cir(ovc: dict[str, Any]) -> float:
    profile = ovc["productConfiguration"]["uniEp"]["ingressBandwidthProfilePerClassOfServiceName"]
    return float(profile[0]["bwpFlow"]["cir"]["irValue"])


def test_a_partner_refusing_the_modify_leaves_our_segment_as_it_was(
    acme: httpx.Client,
    bus: httpx.Client,
    icm: httpx.Client,
    off_net_epl: dict[str, Any],
    sonata_partner: PartnerDomain,
) -> None:
    evc = off_net_epl["evc"]
    ovc_id = relied_on(evc)
    _ended_behind_our_back(sonata_partner, ovc_id)  # so the partner refuses a modify
    order = acme.post(f"{ORDERING}/productOrder", json=change_order(modify_item("more", evc["id"], 90)))
    assert order.status_code == 201, order.text
    done = _final(acme, order.json()["id"])
    assert done["state"] == "failed", done
    reason = done["productOrderItem"][0]["terminationError"][0]["value"]
    assert "partner" in reason and "terminated" in reason and "set back" in reason, reason
    after = product(acme, evc["id"])
    assert after["status"] == "active" and cir_of(after) == 30  # the customer's EPL as it was
    # ... and so is our network: SOF modified our segment, and was asked to set it back, once.
    restores = bus.get(
        f"{LEGATO_ORDERING}/serviceOrder", params={"externalId": restore_key(order.json()["id"], "more")}
    ).json()
    assert len(restores) == 1
    connectivity = _connectivity(_evc_service(bus, evc))
    wait_until(lambda: set(uni_port_cirs(icm, connectivity)) == {30_000_000})


def test_a_partner_refusing_the_disconnect_leaves_our_epl_as_it_was(
    acme: httpx.Client,
    bus: httpx.Client,
    icm: httpx.Client,
    off_net_epl: dict[str, Any],
    sonata_partner: PartnerDomain,
) -> None:
    """The partner's delete is placed before ours: refused, our segment is not touched."""
    evc, uni_a = off_net_epl["evc"], off_net_epl["uni-a"]
    service = _evc_service(bus, evc)
    connectivity = _connectivity(service)
    _ended_behind_our_back(sonata_partner, relied_on(evc))  # the partner cannot delete it again

    done = _disconnected(acme, off_net_epl)
    assert done["state"] == "failed", done
    reason = done["productOrderItem"][0]["terminationError"][0]["value"]
    assert "partner" in reason and "ours is left as it was" in reason, reason
    assert {product(acme, p["id"])["status"] for p in (evc, uni_a)} == {"active"}
    assert bus.get(f"{LEGATO_INVENTORY}/service/{service['id']}").json()["state"] == "active"
    assert held_by_elements(icm, connectivity)  # our network still carries the EPL
    deletes = bus.get(f"{LEGATO_ORDERING}/serviceOrder", params={"externalId": done["id"]}).json()
    assert deletes == []  # SOF was never asked


def _ended_behind_our_back(partner: PartnerDomain, ovc_id: str) -> None:
    """The partner's OVC ends without our order (its buyer account deletes it)."""
    client = SonataClient.connect(partner.base_url, *PARTNER_BUYER)
    try:
        body = order_body(delete_items({OVC_ITEM: ovc_id}), f"behind-{ovc_id}", "test", None, DUE)
        client.create_order(body)
    finally:
        client.close()
    wait_until(lambda: partner_product(partner, ovc_id)["status"] == "terminated")
