"""A customer finds its services on ALLEGRO (the Kylie serviceInventory, scoped to the services ordered for
it) and goes from its CANTATA product to a performance job; the assurance hubs follow their mount (who may
register, and the status the document allows for a bad registration)."""

from __future__ import annotations

import httpx
import pytest

from lso.customer.allegro_client import AllegroClient, AllegroError, service_ref
from lso.customer.cantata_client import CantataClient
from lso.domain import DEMO_CUSTOMERS
from lso.settings import Settings
from tests.bus.test_order_bodies import epl_order
from tests.sof.assurance.assurance import ALLEGRO_ALARMS, LEGATO_PM, customer_epl, profile_value

ALLEGRO_INVENTORY = "/mefApi/allegro/serviceInventory/v2"
INTERLUDE_INVENTORY = "/mefApi/interlude/serviceInventory/v2"
LEGATO_INVENTORY = "/mefApi/legato/serviceInventory/v7"
LEGATO_ALARMS = "/mefApi/legato/alarmManagement/v3"
CANTATA_ORDER_HUB = "/mefApi/cantata/productOrderingManagement/v6/hub"


def test_a_customer_goes_from_its_cantata_product_to_its_allegro_service_to_a_performance_job(
    domain: Settings,
) -> None:
    with (
        CantataClient(domain.base_url, "acme", DEMO_CUSTOMERS["acme"]) as cantata,
        AllegroClient(domain.base_url, "acme", DEMO_CUSTOMERS["acme"]) as allegro,
        AllegroClient(domain.base_url, "globex", DEMO_CUSTOMERS["globex"]) as other,
    ):
        order = cantata.create_product_order(epl_order())
        assert cantata.wait_for_product_order(order["id"], timeout=120)["state"] == "completed"
        evc_product = next(
            cantata.retrieve_product(p["id"])
            for p in cantata.list_products()
            for ref in p.get("productOrderItem", [])
            if (ref["productOrderId"], ref["productOrderItemId"]) == (order["id"], "evc")
        )

        services = allegro.services_of_product(evc_product)

        assert [s["serviceType"] for s in services] == ["EVC"]
        evc = services[0]
        assert evc["href"].endswith(f"{ALLEGRO_INVENTORY}/service/{evc['id']}")
        assert allegro.retrieve_service(evc["id"])["state"] == "active"
        job = allegro.create_performance_job(
            {
                "monitoredObject": service_ref(evc["id"]),
                "performanceProfile": profile_value("on-demand"),
                "scheduleDefinition": {},
            }
        )
        assert job["monitoredObject"]["serviceId"] == evc["id"]
        assert other.list_services(externalId=order["id"]) == []
        with pytest.raises(AllegroError) as hidden:
            other.retrieve_service(evc["id"])
        assert hidden.value.status == 404


def test_each_irp_lists_only_the_services_its_caller_may_see(
    acme: httpx.Client, globex: httpx.Client, bus: httpx.Client
) -> None:
    epl = customer_epl(bus, "acme")
    external_id = bus.get(f"{LEGATO_INVENTORY}/service/{epl}").json()["externalId"]

    for base in (ALLEGRO_INVENTORY, INTERLUDE_INVENTORY):
        listed = acme.get(f"{base}/service", params={"externalId": external_id})
        assert listed.status_code == 200, listed.text
        assert epl in {s["id"] for s in listed.json()}
        assert listed.headers["X-Total-Count"] == str(len(listed.json()))
        assert globex.get(f"{base}/service", params={"externalId": external_id}).json() == []
    assert acme.get(f"{LEGATO_INVENTORY}/service/{epl}").status_code == 403
    assert (
        bus.get(f"{LEGATO_INVENTORY}/service/{epl}")
        .json()["href"]
        .endswith(f"{LEGATO_INVENTORY}/service/{epl}")
    )


def test_a_hub_follows_its_mount(acme: httpx.Client, bus: httpx.Client) -> None:
    callback = {"callback": "http://127.0.0.1:9/listener"}

    for legato_hub in (f"{LEGATO_INVENTORY}/hub", f"{LEGATO_ALARMS}/hub", f"{LEGATO_PM}/hub"):
        assert acme.post(legato_hub, json=callback).status_code == 403, legato_hub
    assert bus.post(f"{LEGATO_ALARMS}/hub", json=callback).status_code == 201

    # The assurance documents allow 400 (not 422) for a bad registration; product ordering lists 422.
    for bad in ({"callback": "not a url"}, {"callback": "http://x", "query": 7}, ["callback"]):
        refused = acme.post(f"{ALLEGRO_ALARMS}/hub", json=bad)
        assert refused.status_code == 400, refused.text
        assert refused.json()["code"] == "invalidBody"
    refused = acme.post(CANTATA_ORDER_HUB, json={"callback": "not a url"})
    assert refused.status_code == 422
    assert refused.json()[0]["propertyPath"] == "/callback"
