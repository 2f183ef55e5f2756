"""Product order items `modify` and `delete` end to end (MEF 55.0.1 §10.3): CANTATA → BUS → LEGATO → SOF →
PRESTO/ICM → ADAGIO, checked on the buyer's product inventory and on what the network elements hold."""

from __future__ import annotations

from typing import Any

import httpx

from tests.bus.test_order_bodies import (
    INVENTORY,
    ORDERING,
    change_order,
    delete_item,
    epl_order,
    modify_item,
)
from tests.bus.test_order_fulfilment import _final
from tests.network import held_by_elements, sip_state

LEGATO_INVENTORY = "/mefApi/legato/serviceInventory/v7"


def ordered_epl(acme: httpx.Client, site_a: str, site_z: str, cir_mbps: float) -> dict[str, dict[str, Any]]:
    """An EPL ordered and completed: its products by item (uni-a, uni-z, evc)."""
    order = acme.post(f"{ORDERING}/productOrder", json=epl_order(site_a, site_z, cir_mbps))
    assert order.status_code == 201, order.text
    assert _final(acme, order.json()["id"])["state"] == "completed"
    listed = acme.get(f"{INVENTORY}/product", params={"productOrderId": order.json()["id"]}).json()
    return {p["productOrderItem"][0]["productOrderItemId"]: product(acme, p["id"]) for p in listed}


def design(bus: httpx.Client, products: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The network facts SOF recorded for the EPL: connectivity service and the SIP of each UNI."""
    order_id = products["evc"]["productOrderItem"][0]["productOrderId"]
    services = bus.get(f"{LEGATO_INVENTORY}/service", params={"externalId": order_id}).json()
    facts = {
        s["serviceOrderItem"][0]["itemId"]: {c["name"]: c["value"] for c in s["serviceCharacteristic"]}
        for s in services
    }
    return {
        "connectivityService": facts["evc"]["connectivityService"],
        "sips": [facts[uni]["serviceInterfacePoint"] for uni in ("uni-a", "uni-z")],
    }


def product(acme: httpx.Client, product_id: str) -> dict[str, Any]:
    found: dict[str, Any] = acme.get(f"{INVENTORY}/product/{product_id}").json()
    return found


def uni_port_cirs(icm: httpx.Client, connectivity_service: str) -> list[int]:
    """The ingress CIR (bit/s) every element applies at the UNI ports of the service (ADAGIO)."""
    held = held_by_elements(icm, connectivity_service).values()
    return [port["ingressBandwidthProfile"]["cir"] for config in held for port in config["uniPorts"]]


def cir_of(product_doc: dict[str, Any]) -> float:
    profile = product_doc["productConfiguration"]["evcEndPointA"][
        "ingressBandwidthProfilePerClassofServiceName"
    ]
    return float(profile[0]["bwpFlow"]["cir"]["irValue"])


def test_modify_the_cir_then_delete_the_epl(acme: httpx.Client, icm: httpx.Client, bus: httpx.Client) -> None:
    products = ordered_epl(acme, "site-ldn-city", "site-lds-park", 50)
    network = design(bus, products)
    assert uni_port_cirs(icm, network["connectivityService"]) == [50_000_000, 50_000_000]

    evc_id = products["evc"]["id"]
    modify = acme.post(f"{ORDERING}/productOrder", json=change_order(modify_item("m", evc_id, 150)))
    assert modify.status_code == 201, modify.text
    modified = _final(acme, modify.json()["id"])
    assert modified["state"] == "completed", modified
    assert [c["state"] for c in modified["productOrderItem"][0]["stateChange"]] == [
        "acknowledged",
        "inProgress",
        "completed",
    ]
    evc = product(acme, evc_id)
    assert evc["status"] == "active" and cir_of(evc) == 150
    assert [c["status"] for c in evc["statusChange"]] == ["active", "active.pendingChange", "active"]
    assert modify.json()["id"] in [ref["productOrderId"] for ref in evc["productOrderItem"]]
    assert uni_port_cirs(icm, network["connectivityService"]) == [150_000_000, 150_000_000]

    assert {sip_state(icm, sip) for sip in network["sips"]} == {"IN_USE"}
    disconnect = change_order(*(delete_item(f"d-{name}", p["id"]) for name, p in products.items()))
    deleted = _final(acme, acme.post(f"{ORDERING}/productOrder", json=disconnect).json()["id"])
    assert deleted["state"] == "completed", deleted
    for product_id in (p["id"] for p in products.values()):
        gone = product(acme, product_id)
        assert gone["status"] == "terminated", gone
        assert gone["terminationDate"] >= gone["startDate"]
        assert gone["statusChange"][-2:] == [
            {"changeDate": gone["statusChange"][-2]["changeDate"], "status": "pendingTerminate"},
            {"changeDate": gone["terminationDate"], "status": "terminated"},
        ]
    assert uni_port_cirs(icm, network["connectivityService"]) == []
    assert {sip_state(icm, sip) for sip in network["sips"]} == {"AVAILABLE"}
    terminated = acme.get(f"{INVENTORY}/product", params={"status": "terminated"}).json()
    assert {p["id"] for p in products.values()} <= {p["id"] for p in terminated}


def test_a_modify_the_network_cannot_carry_fails_and_keeps_the_old_profile(
    acme: httpx.Client, icm: httpx.Client, bus: httpx.Client
) -> None:
    products = ordered_epl(acme, "site-bri-harbour", "site-man-central", 20)
    network = design(bus, products)
    order = acme.post(
        f"{ORDERING}/productOrder", json=change_order(modify_item("m", products["evc"]["id"], 900_000))
    )
    assert order.status_code == 201, order.text
    done = _final(acme, order.json()["id"])
    assert done["state"] == "failed"
    (item,) = done["productOrderItem"]
    assert item["state"] == "failed" and "update-connectivity-service" in item["terminationError"][0]["value"]
    evc = product(acme, products["evc"]["id"])
    assert evc["status"] == "active" and cir_of(evc) == 20
    assert uni_port_cirs(icm, network["connectivityService"]) == [20_000_000, 20_000_000]


def _issues(client: httpx.Client, body: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.post(f"{ORDERING}/productOrder", json=body)
    assert response.status_code == 422, response.text
    issues: list[dict[str, Any]] = response.json()
    return issues


def test_bad_modify_and_delete_are_422_with_property_path_and_change_nothing(
    acme: httpx.Client, globex: httpx.Client, icm: httpx.Client, bus: httpx.Client
) -> None:
    products = ordered_epl(acme, "site-ldn-docklands", "site-bri-harbour", 30)
    evc_id, uni_id = products["evc"]["id"], products["uni-a"]["id"]
    no_configuration = modify_item("m", evc_id, 40)
    del no_configuration["product"]["productConfiguration"]
    wider_frames = modify_item("m", evc_id, 40)
    wider_frames["product"]["productConfiguration"]["maximumFrameSize"] = 9000
    moved = modify_item("m", evc_id, 40)
    moved["product"]["place"] = products["uni-a"]["place"]
    uni_config = modify_item("m", uni_id, 40)
    no_id = delete_item("d", evc_id)
    del no_id["product"]["id"]
    zero = modify_item("m", evc_id, 0)

    cases = [
        (change_order(delete_item("d", uni_id)), "/productOrderItem/0/product/id", "still carries EVC"),
        (change_order(delete_item("d", "no-such-product")), "/productOrderItem/0/product/id", "no product"),
        (change_order(no_id), "/productOrderItem/0/product/id", "names your product"),
        (change_order(no_configuration), "/productOrderItem/0/product/productConfiguration", "required"),
        (change_order(wider_frames), "/productOrderItem/0/product/productConfiguration/maximumFrameSize", ""),
        (change_order(moved), "/productOrderItem/0/product/place", "cannot be changed"),
        (change_order(uni_config), "/productOrderItem/0/product/productConfiguration/@type", ""),
        (
            change_order(zero),
            "/productOrderItem/0/product/productConfiguration/evcEndPointA/"
            "ingressBandwidthProfilePerClassofServiceName",
            "CIR",
        ),
        (
            change_order(delete_item("d", evc_id), delete_item("d2", evc_id)),
            "/productOrderItem/1/product/id",
            "two items",
        ),
        (
            change_order(delete_item("d", evc_id), epl_order()["productOrderItem"][0]),
            "/productOrderItem/1/action",
            "separate orders",
        ),
    ]
    for body, pointer, words in cases:
        issues = _issues(acme, body)
        assert any(i["propertyPath"] == pointer and words in i["message"] for i in issues), (pointer, issues)

    # Another party's product is not in the caller's inventory: the same 422 as an unknown id.
    issues = _issues(globex, change_order(delete_item("d", evc_id)))
    assert [(i["propertyPath"], i["code"]) for i in issues] == [
        ("/productOrderItem/0/product/id", "referenceNotFound")
    ]

    for original in products.values():
        now = product(acme, original["id"])
        assert now["status"] == "active" and now["statusChange"] == original["statusChange"]
    assert cir_of(product(acme, evc_id)) == 30
    assert uni_port_cirs(icm, design(bus, products)["connectivityService"]) == [30_000_000, 30_000_000]


def test_a_product_being_changed_cannot_be_changed_again(acme: httpx.Client) -> None:
    """The product leaves ``active`` in the transaction that acknowledges the first order."""
    products = ordered_epl(acme, "site-man-central", "site-bir-hub", 10)
    evc_id = products["evc"]["id"]
    first = acme.post(f"{ORDERING}/productOrder", json=change_order(modify_item("m", evc_id, 12)))
    assert first.status_code == 201
    issues = _issues(acme, change_order(delete_item("d", evc_id)))
    assert [i["propertyPath"] for i in issues] == ["/productOrderItem/0/product/id"]
    assert "active.pendingChange" in issues[0]["message"]
    assert _final(acme, first.json()["id"])["state"] == "completed"
    assert product(acme, evc_id)["status"] == "active" and cir_of(product(acme, evc_id)) == 12
