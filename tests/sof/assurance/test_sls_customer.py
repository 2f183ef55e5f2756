"""The customer hears of an SLS degradation of its EPL and of its resolution (MEF 55.0.1 §10.6 step 7).

The EPL is ordered over CANTATA with an SLS in its product; an impairment on its path makes SOF open a
degradation and reroute. The customer gets the threshold crossing as a performance report on ALLEGRO, and
BUS follows the degradation with a CANTATA CIM service impairment incident that the customer is notified
of (create, then status changes until closed) and can read — and another customer cannot.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.bus.test_order_bodies import INVENTORY as PRODUCTS
from tests.bus.test_order_bodies import ORDERING as PRODUCT_ORDERING
from tests.harness import EventListener, subscribed, wait_until
from tests.sof.assurance.sls_orders import epl_product_order_with_sls
from tests.sof.orders import INVENTORY

CIM = "/mefApi/cantata/cimIncident/v1"
ALLEGRO_PM = "/mefApi/allegro/performanceMonitoring/v5"
ADMIN = "/adagio/v1/admin/impairments"


@pytest.fixture
def incidents(acme: httpx.Client) -> Iterator[EventListener]:
    with subscribed(acme, CIM) as listener:
        yield listener


@pytest.fixture
def performance_events(acme: httpx.Client) -> Iterator[EventListener]:
    with subscribed(acme, ALLEGRO_PM) as listener:
        yield listener


def completed(acme: httpx.Client, order_id: str) -> dict[str, Any]:
    def final() -> dict[str, Any] | None:
        order: dict[str, Any] = acme.get(f"{PRODUCT_ORDERING}/productOrder/{order_id}").json()
        return order if order["state"] in {"completed", "failed", "rejected"} else None

    order: dict[str, Any] = wait_until(final, timeout=120)
    assert order["state"] == "completed", order
    return order


def ordered_epl(
    customer: httpx.Client, bus: httpx.Client, body: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """Place the customer's EPL product order and wait until it completes: the EPL product id and its EVC
    service (as BUS sees it over LEGATO)."""
    created = customer.post(f"{PRODUCT_ORDERING}/productOrder", json=body)
    assert created.status_code == 201, created.text
    order = completed(customer, created.json()["id"])
    products = customer.get(f"{PRODUCTS}/product", params={"productOrderId": order["id"]}).json()
    epl = next(p["id"] for p in products if p["productOrderItem"][0]["productOrderItemId"] == "evc")
    services = bus.get(f"{INVENTORY}/service", params={"externalId": order["id"]}).json()
    return epl, next(s for s in services if s["serviceType"] == "EVC")


def test_a_degradation_reaches_the_customer_as_a_cim_incident_until_closed(
    acme: httpx.Client,
    globex: httpx.Client,
    bus: httpx.Client,
    internal: Any,
    incidents: EventListener,
    performance_events: EventListener,
    terminated: Any,
) -> None:
    body = epl_product_order_with_sls(5, "site-bri-harbour", "site-man-central")
    epl, evc = ordered_epl(acme, bus, body)
    terminated(evc)
    path = next(c["value"] for c in evc["serviceCharacteristic"] if c["name"] == "path")
    core = "--".join(sorted(path[1:3]))
    ecm: httpx.Client = internal("ecm")
    assert ecm.put(f"{ADMIN}/{core}", json={"extraDelayMs": 25.0}).status_code == 200
    try:
        opened = wait_until(lambda: incidents.received("cimIncidentCreateEvent"), timeout=90)[0]["event"]
        assert opened["@type"] == "CimServiceImpairmentIncident"
        assert opened["relatedEntity"][0]["id"] == epl
        closed = wait_until(
            lambda: [
                e
                for e in incidents.about("cimIncidentStatusChangeEvent", opened["id"])
                if e["event"]["status"] == "closed"
            ],
            timeout=90,
        )
        assert closed
    finally:
        ecm.delete(f"{ADMIN}/{core}")

    tca = wait_until(lambda: performance_events.received("performanceReportCreateEvent"))[0]["event"]
    report = acme.get(f"{ALLEGRO_PM}/performanceReport/{tca['id']}").json()
    assert report["description"].startswith("Threshold crossing alert")
    assert report["monitoredObject"][0]["serviceId"] == evc["id"]
    measured = report["reportContent"][0]["reportContentItem"][0]["measurementData"]
    assert max(m["oneWayMeanFrameDelayMs"] for m in measured) > 5
    assert globex.get(f"{ALLEGRO_PM}/performanceReport/{tca['id']}").status_code == 404

    incident = acme.get(f"{CIM}/cimIncident/{opened['id']}").json()
    assert incident["status"] == "closed"
    assert [c["status"] for c in incident["statusChange"]] == ["created", "inProgress", "closed"]
    steps = [note["id"] for note in incident["note"]]  # SOF's steps as BUS heard them (late ones merge)
    assert steps[-1] == "resolved" and set(steps) <= {"open", "testing", "remediating", "resolved"}
    assert opened["id"] in [
        i["id"] for i in acme.get(f"{CIM}/cimIncident", params={"status": "closed"}).json()
    ]
    about_epl = acme.get(
        f"{CIM}/cimIncident", params={"relatedEntityId": epl, "relatedEntityType": "Product"}
    )
    assert [i["id"] for i in about_epl.json()] == [opened["id"]]
    assert acme.get(f"{CIM}/cimIncident", params={"relatedEntityId": "no-such-product"}).json() == []
    assert globex.get(f"{CIM}/cimIncident/{opened['id']}").status_code == 404
    assert acme.get(f"{PRODUCTS}/product/{epl}").json()["status"] == "active"
    new_path = bus.get(f"{INVENTORY}/service/{evc['id']}").json()
    new_links = {
        "--".join(sorted(p))
        for p in itertools.pairwise(
            next(c["value"] for c in new_path["serviceCharacteristic"] if c["name"] == "path")
        )
    }
    assert core not in new_links
