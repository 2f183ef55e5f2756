"""CANTATA POQ: immediate and deferred qualification of an EPL between two UNIs, off-net places,
notifications, bad input and party isolation."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from lso.bus.products import SUBSCRIBER_UNI
from tests.bus.test_products import epl, rate, uni
from tests.harness import EventListener, running_listener, wait_until

API = "/mefApi/cantata/productOfferingQualification/v8"
BUYER = {
    "role": "buyerContactInformation",
    "name": "Ada",
    "emailAddress": "ada@acme.example",
    "number": "+44 1",
}


@pytest.fixture
def event_listener() -> Iterator[EventListener]:
    with running_listener() as listener:
        yield listener


def site(site_id: str) -> dict[str, Any]:
    return {"@type": "GeographicSiteRef", "id": site_id}


def uni_item(item_id: str, place: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": item_id,
        "action": "add",
        "product": {
            "productOffering": {"id": "lso-uni"},
            "productConfiguration": uni("1000BASE_LX"),
            "place": [{"role": "INSTALL_LOCATION", "place": place}],
        },
    }


def epl_poq(
    place_a: dict[str, Any], place_z: dict[str, Any], instant: bool = True, cir: float = 100
) -> dict[str, Any]:
    return {
        "instantSyncQualification": instant,
        "provideAlternative": False,
        "externalId": "acme-poq-1",
        "relatedContactInformation": [BUYER],
        "productOfferingQualificationItem": [
            uni_item("uni-a", place_a),
            uni_item("uni-z", place_z),
            {
                "id": "evc",
                "action": "add",
                "product": {
                    "productOffering": {"id": "lso-epl"},
                    "productConfiguration": epl(rate(cir), rate(cir)),
                },
                "qualificationItemRelationship": [
                    {"id": "uni-a", "relationshipType": "CONNECTS_TO_UNI"},
                    {"id": "uni-z", "relationshipType": "CONNECTS_TO_UNI"},
                ],
            },
        ],
    }


def items_by_id(poq: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in poq["productOfferingQualificationItem"]}


def test_immediate_poq_between_on_net_sites_is_done_and_green(acme: httpx.Client) -> None:
    response = acme.post(
        f"{API}/productOfferingQualification",
        json=epl_poq(site("site-ldn-docklands"), site("site-man-central")),
    )
    assert response.status_code == 201, response.text
    poq = response.json()
    assert poq["state"] == "done"
    assert [c["state"] for c in poq["stateChange"]] == ["done"]
    items = items_by_id(poq)
    assert {i["state"] for i in items.values()} == {"done"}
    assert items["evc"]["serviceabilityConfidence"] in ("green", "yellow"), items["evc"].get(
        "serviceabilityConfidenceReason"
    )
    assert items["evc"]["installationInterval"]["amount"] > 0
    assert items["uni-a"]["serviceabilityConfidence"] == items["evc"]["serviceabilityConfidence"]
    assert any(c["role"] == "sellerContactInformation" for c in poq["relatedContactInformation"])
    assert acme.get(f"{API}/productOfferingQualification/{poq['id']}").json()["state"] == "done"


def test_off_net_place_is_red_with_a_reason(acme: httpx.Client) -> None:
    paris = {
        "@type": "GeographicAddress_Query",
        "fieldedAddressRepresentation": [
            {"streetName": "Rue de Rivoli", "city": "Paris", "countryCode": "FR"}
        ],
    }
    poq = acme.post(f"{API}/productOfferingQualification", json=epl_poq(site("site-bir-hub"), paris)).json()
    items = items_by_id(poq)
    assert items["uni-z"]["serviceabilityConfidence"] == "red"
    assert "off-net" in items["uni-z"]["serviceabilityConfidenceReason"]
    assert items["evc"]["serviceabilityConfidence"] == "red"
    assert "off-net" in items["evc"]["serviceabilityConfidenceReason"]
    assert "installationInterval" not in items["evc"]


def test_address_reference_resolves_to_the_site_there(acme: httpx.Client) -> None:
    address = {"@type": "GeographicAddressRef", "id": "addr-lds-park"}
    poq = acme.post(
        f"{API}/productOfferingQualification", json=epl_poq(site("site-bri-harbour"), address)
    ).json()
    assert items_by_id(poq)["uni-z"]["serviceabilityConfidence"] != "red"


def test_deferred_poq_goes_through_in_progress_to_done_with_events(
    acme: httpx.Client, event_listener: EventListener
) -> None:
    hub = acme.post(f"{API}/hub", json={"callback": event_listener.url})
    assert hub.status_code == 201
    body = epl_poq(site("site-ldn-city"), site("site-bir-hub"), instant=False)
    created = acme.post(f"{API}/productOfferingQualification", json=body)
    assert created.status_code == 201, created.text
    poq = created.json()
    assert poq["state"] == "acknowledged" and "expectedPOQCompletionDate" in poq
    assert {i["state"] for i in poq["productOfferingQualificationItem"]} == {"acknowledged"}
    url = f"{API}/productOfferingQualification/{poq['id']}"
    done = wait_until(lambda: (d := acme.get(url).json())["state"] == "done" and d)
    assert [c["state"] for c in done["stateChange"]] == ["acknowledged", "inProgress", "done"]
    evc = items_by_id(done)["evc"]
    assert [c["state"] for c in evc["stateChange"]] == ["acknowledged", "inProgress", "done"]
    assert evc["serviceabilityConfidence"] in ("green", "yellow")
    states = wait_until(lambda: len(e := event_listener.about("poqStateChangeEvent", poq["id"])) == 2 and e)
    assert sorted(e["event"]["state"] for e in states) == ["done", "inProgress"]
    item_events = wait_until(
        lambda: len(e := event_listener.about("poqItemStateChangeEvent", poq["id"])) == 6 and e
    )
    assert {e["event"]["poqItemId"] for e in item_events} == {"uni-a", "uni-z", "evc"}
    assert any(
        p.endswith("/productOfferingQualificationNotification/v8/listener/poqItemStateChangeEvent")
        for p in event_listener.paths
    )
    acme.delete(f"{API}/hub/{hub.json()['id']}")


def test_list_is_per_party_with_filters(acme: httpx.Client, globex: httpx.Client) -> None:
    poq = acme.post(
        f"{API}/productOfferingQualification", json=epl_poq(site("site-ldn-city"), site("site-ldn-docklands"))
    ).json()
    mine = acme.get(f"{API}/productOfferingQualification", params={"state": "done"})
    assert poq["id"] in [p["id"] for p in mine.json()]
    assert int(mine.headers["X-Total-Count"]) >= 1
    assert poq["id"] not in [p["id"] for p in globex.get(f"{API}/productOfferingQualification").json()]
    assert globex.get(f"{API}/productOfferingQualification/{poq['id']}").status_code == 404


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda b: b.pop("relatedContactInformation"), "/relatedContactInformation"),
        (lambda b: b.update(productOfferingQualificationItem=[]), "/productOfferingQualificationItem"),
        (
            lambda b: b["productOfferingQualificationItem"][2]["product"]["productConfiguration"].update(
                {"@type": "urn:x"}
            ),
            "/productOfferingQualificationItem/2/product/productConfiguration/@type",
        ),
        (
            lambda b: b["productOfferingQualificationItem"][2]["product"]["productConfiguration"].update(
                maximumFrameSize=9
            ),
            "/productOfferingQualificationItem/2/product/productConfiguration/maximumFrameSize",
        ),
        (
            lambda b: b["productOfferingQualificationItem"][2].pop("qualificationItemRelationship"),
            "/productOfferingQualificationItem/2/qualificationItemRelationship",
        ),
        (
            lambda b: b["productOfferingQualificationItem"][0]["product"].pop("place"),
            "/productOfferingQualificationItem/0/product/place",
        ),
        (
            lambda b: b["productOfferingQualificationItem"][0]["product"].update(
                productOffering={"id": "lso-epl"}
            ),
            "/productOfferingQualificationItem/0/product/productOffering/id",
        ),
        (
            lambda b: b["productOfferingQualificationItem"][1].update(id="uni-a"),
            "/productOfferingQualificationItem/1/id",
        ),
    ],
)
def test_invalid_poq_is_a_422_and_nothing_is_stored(acme: httpx.Client, mutate: Any, path: str) -> None:
    before = acme.get(f"{API}/productOfferingQualification").headers["X-Total-Count"]
    body = copy.deepcopy(epl_poq(site("site-ldn-city"), site("site-bir-hub")))
    mutate(body)
    response = acme.post(f"{API}/productOfferingQualification", json=body)
    assert response.status_code == 422, response.text
    assert path in [issue["propertyPath"] for issue in response.json()]
    assert acme.get(f"{API}/productOfferingQualification").headers["X-Total-Count"] == before


def test_not_json_is_a_400(acme: httpx.Client) -> None:
    response = acme.post(
        f"{API}/productOfferingQualification", content=b"[", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400 and response.json()["code"] == "invalidBody"


def test_uni_on_its_own_is_qualified_by_place(acme: httpx.Client) -> None:
    body = epl_poq(site("site-ldn-city"), site("site-bir-hub"))
    body["productOfferingQualificationItem"] = [uni_item("only", site("site-man-central"))]
    assert (
        body["productOfferingQualificationItem"][0]["product"]["productConfiguration"]["@type"]
        == SUBSCRIBER_UNI
    )
    poq = acme.post(f"{API}/productOfferingQualification", json=body).json()
    assert poq["productOfferingQualificationItem"][0]["serviceabilityConfidence"] == "green"
