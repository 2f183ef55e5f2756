"""CANTATA geographic address validation: exact, fuzzy and partial matches, immediate and deferred."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.harness import EventListener, running_listener, wait_until

API = "/mefApi/cantata/geographicAddressManagement/v2"


@pytest.fixture
def event_listener() -> Iterator[EventListener]:
    with running_listener() as listener:
        yield listener


def validate(client: httpx.Client, fielded: dict[str, Any], instant: bool = True) -> httpx.Response:
    body = {
        "instantSyncValidation": instant,
        "submittedGeographicAddress": {
            "@type": "GeographicAddress_Query",
            "fieldedAddressRepresentation": [fielded],
        },
    }
    return client.post(f"{API}/geographicAddressValidation", json=body)


def test_exact_address_is_the_best_match(acme: httpx.Client) -> None:
    response = validate(
        acme,
        {
            "streetNr": "1",
            "streetName": "Mastmaker",
            "streetType": "Road",
            "city": "London",
            "postcode": "E14 9UB",
            "countryCode": "GB",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "id" not in body  # an immediate answer has no id
    assert body["state"] == "ready"
    assert body["bestMatchGeographicAddress"]["id"] == "addr-ldn-docklands"
    assert body["alternateGeographicAddress"] == []
    address = acme.get(body["bestMatchGeographicAddress"]["href"])
    assert address.status_code == 200
    assert address.json()["fieldedAddressRepresentation"][0]["postcode"] == "E14 9UB"


def test_misspelt_and_abbreviated_address_still_matches(acme: httpx.Client) -> None:
    body = validate(acme, {"streetName": "mastmakr", "streetType": "Rd", "city": "london"}).json()
    assert body["bestMatchGeographicAddress"]["id"] == "addr-ldn-docklands"


def test_partial_address_gives_alternates_but_no_best_match(acme: httpx.Client) -> None:
    body = validate(acme, {"city": "London", "countryCode": "GB"}).json()
    assert "bestMatchGeographicAddress" not in body
    assert {a["id"] for a in body["alternateGeographicAddress"]} == {"addr-ldn-docklands", "addr-ldn-city"}


def test_unknown_address_matches_nothing(acme: httpx.Client) -> None:
    body = validate(acme, {"streetName": "Rue de Rivoli", "city": "Paris", "postcode": "75001"}).json()
    assert body["state"] == "ready"
    assert "bestMatchGeographicAddress" not in body
    assert body["alternateGeographicAddress"] == []


def test_deferred_validation_is_acknowledged_then_ready_with_events(
    acme: httpx.Client, event_listener: EventListener
) -> None:
    hub = acme.post(f"{API}/hub", json={"callback": event_listener.url})
    assert hub.status_code == 201
    response = validate(acme, {"postcode": "M1 3BN", "streetName": "Piccadilly"}, instant=False)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["state"] == "acknowledged"
    url = f"{API}/geographicAddressValidation/{created['id']}"
    done = wait_until(lambda: (b := acme.get(url).json())["state"] == "ready" and b)
    assert done["bestMatchGeographicAddress"]["id"] == "addr-man-central"
    event_type = "geographicAddressValidationStateChangeEvent"
    events = wait_until(lambda: len(found := event_listener.about(event_type, created["id"])) >= 2 and found)
    assert sorted(e["event"]["state"] for e in events) == ["inProgress", "ready"]
    assert all(
        path.endswith(f"/geographicAddressNotification/v2/listener/{event_type}")
        for path in event_listener.paths
    )
    acme.delete(f"{API}/hub/{hub.json()['id']}")


def test_validation_belongs_to_its_party(acme: httpx.Client, globex: httpx.Client) -> None:
    created = validate(acme, {"city": "Leeds"}, instant=False).json()
    assert globex.get(f"{API}/geographicAddressValidation/{created['id']}").status_code == 404
    assert acme.get(f"{API}/geographicAddressValidation/{created['id']}").status_code == 200


def test_bad_requests_are_mef_errors(acme: httpx.Client) -> None:
    not_json = acme.post(
        f"{API}/geographicAddressValidation", content=b"{", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 400 and not_json.json()["code"] == "invalidBody"
    no_representation = acme.post(
        f"{API}/geographicAddressValidation",
        json={
            "instantSyncValidation": True,
            "submittedGeographicAddress": {"@type": "GeographicAddress_Query"},
        },
    )
    assert no_representation.status_code == 422
    assert no_representation.json()[0]["propertyPath"] == "/submittedGeographicAddress"
    missing_flag = acme.post(
        f"{API}/geographicAddressValidation",
        json={
            "submittedGeographicAddress": {
                "@type": "GeographicAddress_Query",
                "fieldedAddressRepresentation": [{"city": "Leeds"}],
            }
        },
    )
    assert missing_flag.status_code == 422
    assert missing_flag.json()[0]["propertyPath"] == "/instantSyncValidation"
    assert acme.get(f"{API}/geographicAddress/addr-nowhere").status_code == 404
