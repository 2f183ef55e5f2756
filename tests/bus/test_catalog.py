"""CANTATA product catalog: categories, offerings with their priced terms, specifications by @type."""

from __future__ import annotations

import httpx

from lso.bus.products import EPL_EVC, SUBSCRIBER_UNI

API = "/mefApi/cantata/productCatalog/v4"


def test_offerings_list_and_filters(acme: httpx.Client) -> None:
    everything = acme.get(f"{API}/productOffering")
    assert everything.status_code == 200, everything.text
    assert {o["id"] for o in everything.json()} == {"lso-epl", "lso-evpl", "lso-uni"}
    assert everything.headers["X-Total-Count"] == "3"
    assert "productOfferingTerm" not in everything.json()[0]  # lists give the _Find shape
    by_spec = acme.get(f"{API}/productOffering", params={"productSpecification.id": "epl-evc"})
    assert [o["id"] for o in by_spec.json()] == ["lso-epl"]
    by_category = acme.get(f"{API}/productOffering", params={"category.id": "carrier-ethernet", "limit": 2})
    assert by_category.headers["X-Total-Count"] == "3" and len(by_category.json()) == 2
    assert acme.get(f"{API}/productOffering", params={"isSellable": "false"}).json() == []
    assert acme.get(f"{API}/productOffering", params={"lastUpdate.gt": "2000-01-01T00:00:00.000Z"}).json()


def test_offering_carries_priced_terms(acme: httpx.Client) -> None:
    offering = acme.get(f"{API}/productOffering/lso-epl").json()
    assert [t["duration"] for t in offering["productOfferingTerm"]] == [
        {"amount": months, "units": "months"} for months in (12, 24, 36)
    ]
    twelve, _, thirty_six = offering["productOfferingTerm"]
    per_mbps = [p for p in twelve["productOfferingPrice"] if p.get("unitOfMeasure") == "Mbit/s"]
    assert per_mbps and per_mbps[0]["priceType"] == "recurring"
    installation = [p for p in thirty_six["productOfferingPrice"] if p["priceType"] == "nonRecurring"]
    assert installation[0]["price"]["dutyFreeAmount"] == {"unit": "GBP", "value": 0.0}
    assert offering["productOfferingSpecificationSchema"]["schemaLocation"] == EPL_EVC
    assert offering["productRelationshipConstraint"][0]["relationshipType"] == "CONNECTS_TO_UNI"


def test_specifications_point_at_the_configuration_urns(acme: httpx.Client) -> None:
    specs = acme.get(f"{API}/productSpecification").json()
    assert {s["id"] for s in specs} == {"epl-evc", "evpl-evc", "carrier-ethernet-subscriber-uni"}
    uni = acme.get(f"{API}/productSpecification/carrier-ethernet-subscriber-uni").json()
    assert uni["sourceSchema"]["schemaLocation"] == SUBSCRIBER_UNI


def test_categories(acme: httpx.Client) -> None:
    [category] = acme.get(f"{API}/category").json()
    assert {o["id"] for o in category["productOffering"]} == {"lso-epl", "lso-evpl", "lso-uni"}
    assert acme.get(f"{API}/category/{category['id']}").json()["name"] == "Carrier Ethernet"


def test_unknown_ids_and_filters_are_mef_errors(acme: httpx.Client) -> None:
    missing = acme.get(f"{API}/productOffering/lso-teleporter")
    assert missing.status_code == 404 and missing.json()["code"] == "notFound"
    assert acme.get(f"{API}/productSpecification/nope").status_code == 404
    bad = acme.get(f"{API}/productOffering", params={"colour": "blue"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalidQuery"
