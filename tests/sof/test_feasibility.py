"""The lso LEGATO extension serviceFeasibility (docs/legato.md): SOF's view of serviceability."""

from __future__ import annotations

import httpx

FEASIBILITY = "/mefApi/legato/serviceFeasibility/v1/feasibilityCheck"


def check(bus: httpx.Client, sites: list[str], mbps: float) -> httpx.Response:
    body = {
        "place": [{"@type": "GeographicSiteRef", "id": site} for site in sites],
        "bandwidth": {"irValue": mbps, "irUnits": "MBPS"},
    }
    return bus.post(FEASIBILITY, json=body)


def test_two_on_net_sites_are_serviceable_in_the_provider_footprint(bus: httpx.Client) -> None:
    answer = check(bus, ["site-ldn-docklands", "site-man-central"], 100)

    assert answer.status_code == 201, answer.text
    result = answer.json()
    assert result["serviceable"] is True
    assert result["serviceabilityConfidence"] == "green"
    assert result["installationInterval"]["amount"] > 0
    assert result["distanceKm"] > 0
    assert [c["footprint"] for c in result["component"]] == ["provider", "provider", "provider"]
    assert bus.get(f"{FEASIBILITY}/{result['id']}").json() == result


def test_an_off_net_site_is_not_serviceable(bus: httpx.Client) -> None:
    result = check(bus, ["site-ldn-docklands", "site-nowhere"], 100).json()

    assert result["serviceable"] is False
    assert result["serviceabilityConfidence"] == "red"
    assert "installationInterval" not in result
    assert result["component"][1]["footprint"] == "offNet"


def test_a_check_needs_two_sites_and_a_bandwidth(bus: httpx.Client) -> None:
    answer = check(bus, ["site-ldn-docklands"], 100)

    assert answer.status_code == 422
    assert answer.json()[0]["propertyPath"] == "/place"
