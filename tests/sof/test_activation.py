"""LEGATO service ordering through the real API of a running domain, as BUS ("lso-bus") calls it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from lso.settings import Settings
from lso.sof.activation import connectivity_service_uuid
from lso.sof.presto_client import PrestoClient, PrestoError
from tests.harness import wait_until
from tests.sof.orders import INVENTORY, ORDERING, TESTING, epl_order, evc_item, uni_item

FINAL = {"completed", "failed", "rejected", "partial"}


def settled(bus: httpx.Client, order_id: str) -> dict[str, Any]:
    """The order once its activation workflow has finished."""

    def final() -> dict[str, Any] | None:
        order: dict[str, Any] = bus.get(f"{ORDERING}/serviceOrder/{order_id}").json()
        return order if order["state"] in FINAL else None

    result: dict[str, Any] = wait_until(final)
    return result


def services_of(bus: httpx.Client, order: dict[str, Any]) -> list[dict[str, Any]]:
    found = bus.get(f"{INVENTORY}/service", params={"externalId": order["externalId"], "limit": 100})
    assert found.status_code == 200
    services: list[dict[str, Any]] = found.json()
    return services


def characteristic(service: dict[str, Any], name: str) -> Any:
    return next(c["value"] for c in service["serviceCharacteristic"] if c["name"] == name)


def test_an_epl_order_completes_with_active_services_and_a_passed_test(bus: httpx.Client) -> None:
    created = bus.post(f"{ORDERING}/serviceOrder", json=epl_order())
    assert created.status_code == 201, created.text
    assert created.json()["state"] == "acknowledged"
    assert all(item["state"] == "acknowledged" for item in created.json()["serviceOrderItem"])

    order = settled(bus, created.json()["id"])

    assert order["state"] == "completed", order
    assert {item["state"] for item in order["serviceOrderItem"]} == {"completed"}
    assert order["startDate"] <= order["completionDate"]
    services = services_of(bus, order)
    assert len(services) == 3
    assert {s["state"] for s in services} == {"active"}
    evc = next(s for s in services if s["serviceType"] == "EVC")
    unis = [s for s in services if s["serviceType"] == "UNI"]
    assert {r["service"]["id"] for r in evc["serviceRelationship"]} == {u["id"] for u in unis}
    assert characteristic(evc, "vni") is not None
    assert characteristic(evc, "path")[0] != characteristic(evc, "path")[-1]
    assert set(characteristic(evc, "serviceInterfacePoints")) == {
        characteristic(u, "serviceInterfacePoint") for u in unis
    }

    job = bus.get(f"{TESTING}/testJob/{characteristic(evc, 'testJob')}").json()
    assert job["state"] == "completed"
    results = bus.get(f"{TESTING}/testResult", params={"testJobId": job["id"]}).json()
    assert results, "the activation test recorded no result"
    for result in results:
        measured = result["serviceSpecificTestResultConfiguration"]
        assert measured["verdict"] == "pass"
        assert measured["throughputMbps"] > 0
        assert measured["frameLossRatio"] >= 0


def test_a_retried_post_with_the_same_external_id_creates_nothing_new(bus: httpx.Client) -> None:
    body = epl_order()
    first = bus.post(f"{ORDERING}/serviceOrder", json=body)
    again = bus.post(f"{ORDERING}/serviceOrder", json=body)

    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    order = settled(bus, first.json()["id"])
    listed = bus.get(f"{ORDERING}/serviceOrder", params={"externalId": body["externalId"]})
    assert listed.headers["X-Total-Count"] == "1"
    assert len(services_of(bus, order)) == 3


def test_an_invalid_configuration_rejects_the_order_with_a_reason(bus: httpx.Client) -> None:
    body = epl_order()
    del body["serviceOrderItem"][2]["service"]["serviceConfiguration"]["ingressBwp"]

    order = settled(bus, bus.post(f"{ORDERING}/serviceOrder", json=body).json()["id"])

    assert order["state"] == "rejected"
    assert {item["state"] for item in order["serviceOrderItem"]} == {"rejected"}
    evc = order["serviceOrderItem"][2]
    assert evc["terminationError"][0]["code"] == "missingProperty"
    assert evc["terminationError"][0]["propertyPath"].endswith("/serviceConfiguration/ingressBwp")
    assert services_of(bus, order) == []


def test_an_evc_must_connect_two_uni_items(bus: httpx.Client) -> None:
    body = epl_order()
    body["serviceOrderItem"][2] = evc_item("evc", 100, unis=("uni-a", "no-such-item"))

    order = settled(bus, bus.post(f"{ORDERING}/serviceOrder", json=body).json()["id"])

    assert order["state"] == "rejected"
    assert order["serviceOrderItem"][2]["terminationError"][0]["code"] == "referenceNotFound"


def test_a_malformed_order_is_answered_with_a_mef_error(bus: httpx.Client) -> None:
    body = epl_order()
    del body["requestedStartDate"]
    body["serviceOrderItem"] = [uni_item("same", "site-ldn-city"), uni_item("same", "site-ldn-city")]

    missing = bus.post(f"{ORDERING}/serviceOrder", json=body)
    not_json = bus.post(
        f"{ORDERING}/serviceOrder", content=b"{", headers={"content-type": "application/json"}
    )

    assert missing.status_code == 422
    assert missing.json()[0]["propertyPath"] == "/requestedStartDate"
    assert not_json.status_code == 400
    assert not_json.json()["code"] == "invalidBody"


def test_customers_cannot_use_legato(acme: httpx.Client) -> None:
    assert acme.post(f"{ORDERING}/serviceOrder", json=epl_order()).status_code == 403


def test_an_icm_refusal_fails_the_items_and_leaves_nothing_configured(
    bus: httpx.Client, internal: Callable[[str], httpx.Client], domain: Settings
) -> None:
    presto = PrestoClient(internal("sof"))
    sites = ("site-ldn-docklands", "site-man-central")
    free_before = presto.check_feasibility(*sites, 1).sites
    # No path of the demo network carries 900 Gbit/s: ICM refuses the EVC after both SIPs were allocated.
    order = settled(bus, bus.post(f"{ORDERING}/serviceOrder", json=epl_order(cir_mbps=900_000)).json()["id"])

    assert order["state"] == "failed"
    assert {item["state"] for item in order["serviceOrderItem"]} == {"failed"}
    evc_item_ = order["serviceOrderItem"][2]
    assert evc_item_["terminationError"][0]["value"].startswith("ICM refused create-connectivity-service")
    services = services_of(bus, order)
    assert {s["state"] for s in services} == {"terminated"}
    assert presto.check_feasibility(*sites, 1).sites == free_before, "the SIPs were not released"
    with pytest.raises(PrestoError) as gone:
        presto.get_connectivity_service(connectivity_service_uuid(order["id"], "evc"))
    assert gone.value.not_found


def test_a_failed_activation_test_fails_the_items_and_leaves_nothing_configured(
    bus: httpx.Client, internal: Callable[[str], httpx.Client]
) -> None:
    ecm = internal("icm")  # ADAGIO's admin part (docs/adagio.md) injects the impairment
    impaired = ecm.put("/adagio/v1/admin/impairments/pe-bri-1", json={"lossRatio": 0.5})
    assert impaired.status_code == 200, impaired.text
    try:
        body = epl_order(site_a="site-bri-harbour", site_z="site-bir-hub")
        order = settled(bus, bus.post(f"{ORDERING}/serviceOrder", json=body).json()["id"])
    finally:
        ecm.delete("/adagio/v1/admin/impairments/pe-bri-1")

    assert order["state"] == "failed"
    assert {item["state"] for item in order["serviceOrderItem"]} == {"failed"}
    assert "activation test failed" in order["serviceOrderItem"][2]["terminationError"][0]["value"]
    services = services_of(bus, order)
    assert {s["state"] for s in services} == {"terminated"}
    evc = next(s for s in services if s["serviceType"] == "EVC")
    job = bus.get(f"{TESTING}/testJob/{characteristic(evc, 'testJob')}").json()
    assert job["state"] == "completed"
    verdicts = {
        r["serviceSpecificTestResultConfiguration"]["verdict"]
        for r in bus.get(f"{TESTING}/testResult", params={"testJobId": job["id"]}).json()
    }
    assert "fail" in verdicts
    connectivity = connectivity_service_uuid(order["id"], "evc")
    for element in ecm.get("/adagio/v1/elements").json():
        held = ecm.get(f"/adagio/v1/elements/{element['id']}/configurations").json()
        assert not [c for c in held if connectivity in c["id"]], f"{element['id']} still holds the EVC"
