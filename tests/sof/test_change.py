"""LEGATO service orders that modify or delete services in inventory (MEF 55.0.1 §10.3), through the real
API of a running domain: what SOF records and what the network elements hold afterwards."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from tests.network import held_by_elements, sip_state
from tests.sof.orders import (
    INVENTORY,
    ORDERING,
    change_order,
    delete_item,
    epl_order,
    modify_item,
)
from tests.sof.test_activation import characteristic, services_of, settled


def active_epl(bus: httpx.Client, site_a: str, site_z: str, cir_mbps: float) -> dict[str, dict[str, Any]]:
    """An activated EPL: its services by the item that made them (uni-a, uni-z, evc)."""
    created = bus.post(f"{ORDERING}/serviceOrder", json=epl_order(site_a, site_z, cir_mbps))
    order = settled(bus, created.json()["id"])
    assert order["state"] == "completed", order
    return {s["serviceOrderItem"][0]["itemId"]: s for s in services_of(bus, order)}


def order_changes(bus: httpx.Client, *items: dict[str, Any]) -> dict[str, Any]:
    created = bus.post(f"{ORDERING}/serviceOrder", json=change_order(*items))
    assert created.status_code == 201, created.text
    return settled(bus, created.json()["id"])


def test_modify_changes_the_profile_on_every_element_then_delete_frees_everything(
    bus: httpx.Client, icm: httpx.Client
) -> None:
    services = active_epl(bus, "site-ldn-city", "site-man-central", 40)
    evc = services["evc"]
    connectivity = characteristic(evc, "connectivityService")
    before = held_by_elements(icm, connectivity)
    assert before and all(
        p["ingressBandwidthProfile"]["cir"] == 40_000_000 for c in before.values() for p in c["uniPorts"]
    )

    modified = order_changes(bus, modify_item("m", evc["id"], 60, eir_mbps=10))
    assert modified["state"] == "completed", modified
    after = held_by_elements(icm, connectivity)
    assert set(after) == set(before)
    ports = [p["ingressBandwidthProfile"] for c in after.values() for p in c["uniPorts"]]
    assert len(ports) == 2 and all(p["cir"] == 60_000_000 and p["eir"] == 10_000_000 for p in ports)
    stored = bus.get(f"{INVENTORY}/service/{evc['id']}").json()
    assert stored["state"] == "active"
    assert stored["serviceConfiguration"]["ingressBwp"]["cir"]["irValue"] == 60
    assert stored["serviceConfiguration"].get("identifier") == evc["serviceConfiguration"].get("identifier")

    sips = [characteristic(services[u], "serviceInterfacePoint") for u in ("uni-a", "uni-z")]
    assert {sip_state(icm, sip) for sip in sips} != {"AVAILABLE"}
    deleted = order_changes(
        bus,
        delete_item("d-uni-a", services["uni-a"]["id"]),
        delete_item("d-evc", evc["id"]),
        delete_item("d-uni-z", services["uni-z"]["id"]),
    )
    assert deleted["state"] == "completed", deleted
    assert {i["state"] for i in deleted["serviceOrderItem"]} == {"completed"}
    assert held_by_elements(icm, connectivity) == {}
    assert {sip_state(icm, sip) for sip in sips} == {"AVAILABLE"}
    for service in services.values():
        gone = bus.get(f"{INVENTORY}/service/{service['id']}").json()
        assert gone["state"] == "terminated" and gone["endDate"] >= gone["startDate"]


def test_a_modify_icm_refuses_fails_and_keeps_the_old_profile(bus: httpx.Client, icm: httpx.Client) -> None:
    services = active_epl(bus, "site-bri-harbour", "site-lds-park", 30)
    evc = services["evc"]
    order = order_changes(bus, modify_item("m", evc["id"], 5_000_000))
    assert order["state"] == "failed" and order["completionDate"] >= order["startDate"]
    (item,) = order["serviceOrderItem"]
    assert item["state"] == "failed" and item["terminationError"][0]["propertyPath"] == "/serviceOrderItem/0"
    assert "update-connectivity-service" in item["terminationError"][0]["value"]
    held = held_by_elements(icm, characteristic(evc, "connectivityService"))
    assert held and all(
        p["ingressBandwidthProfile"]["cir"] == 30_000_000 for c in held.values() for p in c["uniPorts"]
    )
    stored = bus.get(f"{INVENTORY}/service/{evc['id']}").json()
    assert stored["serviceConfiguration"]["ingressBwp"]["cir"]["irValue"] == 30


def test_bad_changes_are_rejected_with_the_item_and_property(bus: httpx.Client, icm: httpx.Client) -> None:
    services = active_epl(bus, "site-ldn-docklands", "site-bir-hub", 20)
    evc, uni = services["evc"], services["uni-a"]

    cases = [
        (delete_item("d", uni["id"]), "/serviceOrderItem/0/service/id", "still carries EVC"),
        (delete_item("d", "no-such-service"), "/serviceOrderItem/0/service/id", "no service"),
        (modify_item("m", uni["id"], 10), "/serviceOrderItem/0/service/id", "only an EVC"),
        (
            {**modify_item("m", evc["id"], 10), "service": {"id": evc["id"]}},
            "/serviceOrderItem/0/service/serviceConfiguration/@type",
            "only an EVC",
        ),
    ]
    for item, pointer, reason in cases:
        order = order_changes(bus, item)
        assert order["state"] == "rejected", (item, order)
        (error,) = order["serviceOrderItem"][0]["terminationError"]
        assert error["propertyPath"] == pointer and reason in error["value"], error

    wider = modify_item("m", evc["id"], 10)
    wider["service"]["serviceConfiguration"]["maximumFrameSize"] = 9000
    order = order_changes(bus, wider)
    assert order["state"] == "rejected"
    error = order["serviceOrderItem"][0]["terminationError"][0]
    assert error["propertyPath"].endswith("/serviceConfiguration/maximumFrameSize")

    mixed = order_changes(bus, delete_item("d", evc["id"]), epl_order()["serviceOrderItem"][0])
    assert mixed["state"] == "rejected"
    assert mixed["serviceOrderItem"][1]["terminationError"][0]["propertyPath"] == "/serviceOrderItem/1/action"

    assert all(
        bus.get(f"{INVENTORY}/service/{s['id']}").json()["state"] == "active" for s in services.values()
    )
    held = held_by_elements(icm, characteristic(evc, "connectivityService"))
    assert all(
        p["ingressBandwidthProfile"]["cir"] == 20_000_000 for c in held.values() for p in c["uniPorts"]
    )


def test_another_partys_service_is_not_found(
    bus: httpx.Client, internal: Callable[[str], httpx.Client]
) -> None:
    services = active_epl(bus, "site-ldn-city", "site-bir-hub", 10)
    other = internal("icm")
    created = other.post(
        f"{ORDERING}/serviceOrder", json=change_order(delete_item("d", services["evc"]["id"]))
    )
    assert created.status_code == 201, created.text
    order = settled(other, created.json()["id"])
    assert order["state"] == "rejected"
    assert "no service" in order["serviceOrderItem"][0]["terminationError"][0]["value"]
    assert bus.get(f"{INVENTORY}/service/{services['evc']['id']}").json()["state"] == "active"
