"""ADAGIO ``PUT /configurations/{serviceId}``: a service's configuration on every element of its route in
one call, idempotent, and stopping at an element's refusal."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

ADAGIO = "/adagio/v1"
BANDWIDTH = {"cir": 10_000_000, "cbs": 12_176, "eir": 0, "ebs": 0}


def _route(vni: int) -> dict[str, Any]:
    """pe-ldn-1/uni-9 — p-ldn — pe-ldn-2/uni-9."""
    uni = {"port": "uni-9", "ingressBandwidthProfile": BANDWIDTH}
    return {
        "pe-ldn-1": {"vni": vni, "uniPorts": [uni], "nniPeers": ["p-ldn"]},
        "p-ldn": {"vni": vni, "nniPeers": ["pe-ldn-1", "pe-ldn-2"]},
        "pe-ldn-2": {"vni": vni, "uniPorts": [uni], "nniPeers": ["p-ldn"]},
    }


def _held(icm: httpx.Client, element: str, service_id: str) -> bool:
    response = icm.get(f"{ADAGIO}/elements/{element}/configurations/{service_id}")
    assert response.status_code in (200, 404), response.text
    return response.status_code == 200


def test_a_route_is_configured_in_one_call_and_a_retry_changes_nothing(icm: httpx.Client) -> None:
    service_id = str(uuid.uuid4())
    route = _route(vni=7001)
    first = icm.put(f"{ADAGIO}/configurations/{service_id}", json={"elements": route})
    assert first.status_code == 201, first.text
    assert list(first.json()["elements"]) == list(route)
    assert all(_held(icm, element, service_id) for element in route)
    again = icm.put(f"{ADAGIO}/configurations/{service_id}", json={"elements": route})
    assert again.status_code == 200, again.text
    assert again.json() == first.json()


def test_a_refusal_stops_the_route_where_it_is_refused(icm: httpx.Client) -> None:
    service_id = str(uuid.uuid4())
    route = _route(vni=7002)
    route["p-ldn"]["nniPeers"] = ["pe-ldn-1", "pe-man-1"]  # p-ldn has no link to pe-man-1
    response = icm.put(f"{ADAGIO}/configurations/{service_id}", json={"elements": route})
    assert response.status_code == 422, response.text
    assert "p-ldn has no link to pe-man-1" in response.text  # the element that refused, and why
    assert [_held(icm, element, service_id) for element in route] == [True, False, False]
    for element in route:
        icm.delete(f"{ADAGIO}/elements/{element}/configurations/{service_id}")


def test_a_route_configuration_is_validated_before_any_element_is_touched(icm: httpx.Client) -> None:
    service_id = str(uuid.uuid4())
    route = _route(vni=7003)
    route["pe-ldn-2"]["uniPorts"][0]["ingressBandwidthProfile"] = {"cir": "fast"}
    response = icm.put(f"{ADAGIO}/configurations/{service_id}", json={"elements": route})
    assert response.status_code == 422, response.text
    assert not any(_held(icm, element, service_id) for element in route)
