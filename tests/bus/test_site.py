"""CANTATA geographic sites: the provider's footprint sites, found by address and read by id."""

from __future__ import annotations

import httpx

API = "/mefApi/cantata/geographicSiteManagement/v8"


def test_sites_at_an_address_reference(acme: httpx.Client) -> None:
    response = acme.post(
        f"{API}/geographicSite", json={"place": {"@type": "GeographicAddressRef", "id": "addr-bir-hub"}}
    )
    assert response.status_code == 200, response.text
    assert [s["id"] for s in response.json()] == ["site-bir-hub"]
    assert response.headers["X-Total-Count"] == "1"
    site = response.json()[0]
    assert site["networkType"] == "onNet" and site["place"]["id"] == "addr-bir-hub"


def test_sites_matching_an_address_query_with_paging(acme: httpx.Client) -> None:
    query = {
        "place": {"@type": "GeographicAddress_Query", "fieldedAddressRepresentation": [{"city": "London"}]}
    }
    everything = acme.post(f"{API}/geographicSite", json=query)
    assert {s["id"] for s in everything.json()} == {"site-ldn-docklands", "site-ldn-city"}
    first = acme.post(f"{API}/geographicSite", params={"limit": 1}, json=query)
    assert len(first.json()) == 1
    assert first.headers["X-Total-Count"] == "2" and first.headers["X-Result-Count"] == "1"
    named = acme.post(f"{API}/geographicSite", json={**query, "name": "London City Exchange"})
    assert [s["id"] for s in named.json()] == ["site-ldn-city"]


def test_site_by_id_and_unknown_site(acme: httpx.Client) -> None:
    site = acme.get(f"{API}/geographicSite/site-bri-harbour")
    assert site.status_code == 200
    assert site.json()["name"] == "Bristol Harbourside"
    assert (
        acme.get(site.json()["place"]["href"]).json()["fieldedAddressRepresentation"][0]["city"] == "Bristol"
    )
    missing = acme.get(f"{API}/geographicSite/site-atlantis")
    assert missing.status_code == 404 and missing.json()["code"] == "notFound"


def test_site_query_without_place_is_a_422(acme: httpx.Client) -> None:
    response = acme.post(f"{API}/geographicSite", json={"name": "Birmingham Hub"})
    assert response.status_code == 422
    assert response.json()[0]["propertyPath"] == "/place"
