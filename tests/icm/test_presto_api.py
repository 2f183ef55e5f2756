"""PRESTO through the real HTTP API of the demo domain, authenticated as SOF, checked on the elements."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from lso.security.tokens import internal_secret
from lso.settings import Settings
from lso.sof.presto_client import BandwidthProfile, EndPoint, PrestoClient, PrestoError
from tests.harness import party_client


def _internal(settings: Settings, entity: str) -> httpx.Client:
    return party_client(settings.base_url, f"lso-{entity}", internal_secret(settings.jwt_secret, entity))


@pytest.fixture
def presto(domain: Settings) -> Iterator[PrestoClient]:
    with _internal(domain, "sof") as http:
        yield PrestoClient(http)


@pytest.fixture
def adagio(domain: Settings) -> Iterator[httpx.Client]:
    with _internal(domain, "icm") as http:
        yield http


def _held(adagio: httpx.Client, element: str, service_id: str) -> int:
    configs = adagio.get(f"/adagio/v1/elements/{element}/configurations").json()
    return sum(c["serviceId"] == service_id for c in configs)


def _sips(presto: PrestoClient, site_a: str, site_z: str) -> tuple[str, str]:
    key = uuid.uuid4().hex
    a = presto.allocate_sip(site_a, f"{key}-a", 1000)
    z = presto.allocate_sip(site_z, f"{key}-z", 1000)
    return a.uuid, z.uuid


def test_customers_cannot_reach_presto_or_adagio(acme: httpx.Client) -> None:
    assert acme.post("/restconf/operations/get-connectivity-service-list/", json={}).status_code == 403
    assert acme.get("/adagio/v1/elements").status_code == 403


def test_sip_allocation_is_idempotent_per_key(presto: PrestoClient) -> None:
    key = uuid.uuid4().hex
    first = presto.allocate_sip("site-man-central", key, 1000)
    assert presto.allocate_sip("site-man-central", key, 1000) == first
    other = presto.allocate_sip("site-man-central", key + "-2", 1000)
    assert other.uuid != first.uuid and other.site_id == first.site_id == "site-man-central"
    presto.release_sip(key)
    presto.release_sip(key)
    with pytest.raises(PrestoError) as off_net:
        presto.allocate_sip("site-nowhere", key, 1000)
    assert off_net.value.status == 404


def test_create_configures_each_element_of_the_route_once_and_delete_removes_all(
    presto: PrestoClient, adagio: httpx.Client
) -> None:
    a, z = _sips(presto, "site-ldn-docklands", "site-bir-hub")
    service_id = str(uuid.uuid4())
    bandwidth = BandwidthProfile(cir_mbps=200, eir_mbps=50)
    created = presto.create_connectivity_service(
        service_id, [EndPoint(a, (100,)), EndPoint(z, (100,))], bandwidth
    )
    assert created.lifecycle_state == "INSTALLED"
    assert created.route == ("pe-ldn-1", "p-bir", "pe-bir-1")
    again = presto.create_connectivity_service(
        service_id, [EndPoint(a, (100,)), EndPoint(z, (100,))], bandwidth
    )
    assert (again.vni, again.route) == (created.vni, created.route)
    for element in created.route:
        assert _held(adagio, element, service_id) == 1
    assert [s.uuid for s in presto.list_connectivity_services()].count(service_id) == 1
    results = presto.run_service_activation_test(service_id, cir_mbps=200, eir_mbps=50)
    assert [r.passed for r in results] == [True]
    assert results[0].frame_delay_ms == pytest.approx(195 * 0.005 + 3 * 0.015, abs=0.02)

    presto.delete_connectivity_service(service_id)
    presto.delete_connectivity_service(service_id)
    for element in created.route:
        assert _held(adagio, element, service_id) == 0
    with pytest.raises(PrestoError) as gone:
        presto.get_connectivity_service(service_id)
    assert gone.value.not_found


def test_vnis_are_unique_per_service(presto: PrestoClient) -> None:
    vnis = set()
    ids = []
    for _ in range(3):
        a, z = _sips(presto, "site-ldn-city", "site-man-central")
        service = presto.create_connectivity_service(
            str(uuid.uuid4()), [EndPoint(a), EndPoint(z)], BandwidthProfile(10)
        )
        vnis.add(service.vni)
        ids.append(service.uuid)
    assert len(vnis) == 3
    for ident in ids:
        presto.delete_connectivity_service(ident)


def test_element_failure_during_create_leaves_nothing_configured(
    presto: PrestoClient, adagio: httpx.Client
) -> None:
    a, z = _sips(presto, "site-lds-park", "site-man-central")
    assert adagio.put("/adagio/v1/admin/faults/element/pe-man-1").status_code == 200
    service_id = str(uuid.uuid4())
    try:
        with pytest.raises(PrestoError) as failed:
            presto.create_connectivity_service(service_id, [EndPoint(a), EndPoint(z)], BandwidthProfile(100))
        assert "pe-man-1" in failed.value.reason
    finally:
        adagio.delete("/adagio/v1/admin/faults/element/pe-man-1")
    for element in ("pe-lds-1", "p-man", "pe-man-1"):
        assert _held(adagio, element, service_id) == 0
    with pytest.raises(PrestoError):
        presto.get_connectivity_service(service_id)
    # Everything was released: the same SIPs and uuid now make a service.
    created = presto.create_connectivity_service(
        service_id, [EndPoint(a), EndPoint(z)], BandwidthProfile(100)
    )
    assert created.lifecycle_state == "INSTALLED"
    presto.delete_connectivity_service(service_id)


def test_feasibility_reports_sites_and_path(presto: PrestoClient) -> None:
    ok = presto.check_feasibility("site-bri-harbour", "site-lds-park", 1000)
    assert ok.feasible and ok.path_found and ok.hop_count and ok.distance_km
    assert all(s.on_net and s.free_uni_ports > 0 for s in ok.sites)
    off = presto.check_feasibility("site-bri-harbour", "site-paris", 1000)
    assert not off.feasible and not off.sites[1].on_net
    too_big = presto.check_feasibility("site-bri-harbour", "site-lds-park", 500_000)
    assert not too_big.feasible and not too_big.path_found


def test_update_changes_the_policer_on_the_elements(presto: PrestoClient, adagio: httpx.Client) -> None:
    a, z = _sips(presto, "site-ldn-city", "site-ldn-docklands")
    service_id = str(uuid.uuid4())
    presto.create_connectivity_service(service_id, [EndPoint(a), EndPoint(z)], BandwidthProfile(50))
    assert not presto.run_service_activation_test(service_id, cir_mbps=80)[0].passed
    updated = presto.update_bandwidth(service_id, BandwidthProfile(80))
    assert updated.bandwidth and updated.bandwidth.cir_mbps == 80
    assert presto.run_service_activation_test(service_id, cir_mbps=80)[0].passed
    sessions = presto.start_performance_monitoring(service_id)
    assert len(sessions) == 2 and sessions[0]["serviceId"] == service_id  # one per ordered pair
    presto.delete_connectivity_service(service_id)


def test_bad_input_is_a_mef_error(presto: PrestoClient) -> None:
    response = presto.http.post(
        "/restconf/operations/create-connectivity-service/", json={"input": {"uuid": "x"}}
    )
    assert response.status_code == 422
    assert response.json()[0]["propertyPath"].startswith("/input")
