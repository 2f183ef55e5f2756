"""The fault path: an ECM fault raises an alarm in ECM and ICM, ICM reroutes (or disables) the services on
it and tells SOF; the PRESTO reroute RPC moves a service on request. Sim driver, shared demo domain."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from lso.db import Database
from lso.ecm.drivers.sim import FAULTS
from lso.footprint import demo_footprint
from lso.icm.topology import link_id
from lso.security.tokens import internal_secret
from lso.settings import Settings
from lso.sof.presto_client import BandwidthProfile, ConnectivityService, EndPoint, PrestoClient, PrestoError
from tests.harness import EventListener, domain_process, free_port, party_client, running_listener, wait_until
from tests.network import element_configurations, held_by_elements

HUB = "/restconf/operations/lso-notifications/hub"
ADAGIO = "/adagio/v1"
# pe-ldn-1 ↔ pe-man-1: shortest by distance through p-ldn and p-man (8+320+4 km); with p-ldn--p-man down,
# through p-bir (190+140+4 km).
LDN_MAN = ("site-ldn-docklands", "site-man-central")
DIRECT = ("pe-ldn-1", "p-ldn", "p-man", "pe-man-1")
VIA_BIR = ("pe-ldn-1", "p-bir", "p-man", "pe-man-1")
COMMIT_LATENCY_MS = 1000


@pytest.fixture
def presto(internal: Callable[[str], httpx.Client]) -> PrestoClient:
    return PrestoClient(internal("sof"))


@pytest.fixture
def events(internal: Callable[[str], httpx.Client]) -> Iterator[EventListener]:
    """SOF's view: a listener registered on ICM's PRESTO notification hub."""
    sof = internal("sof")
    with running_listener() as listener:
        hub = sof.post(HUB, json={"callback": listener.url})
        assert hub.status_code == 201
        yield listener
        assert sof.delete(f"{HUB}/{hub.json()['id']}").status_code == 204


@contextmanager
def fault(icm: httpx.Client, kind: str, target: str) -> Iterator[dict[str, Any]]:
    response = icm.put(f"{ADAGIO}/admin/faults/{kind}/{target}")
    assert response.status_code == 200
    try:
        yield response.json()
    finally:
        icm.delete(f"{ADAGIO}/admin/faults/{kind}/{target}")


@contextmanager
def epl(
    presto: PrestoClient, sites: tuple[str, str], cir_mbps: float = 100, cleanup: bool = True
) -> Iterator[ConnectivityService]:
    key = uuid.uuid4().hex
    a = presto.allocate_sip(sites[0], f"{key}-a", 1000)
    z = presto.allocate_sip(sites[1], f"{key}-z", 1000)
    service = presto.create_connectivity_service(
        str(uuid.uuid4()), [EndPoint(a.uuid), EndPoint(z.uuid)], BandwidthProfile(cir_mbps)
    )
    try:
        yield service
    finally:
        if cleanup:
            presto.delete_connectivity_service(service.uuid)
            presto.release_sip(f"{key}-a")
            presto.release_sip(f"{key}-z")


def _as_entity(base_url: str, data_dir: Path, entity: str) -> httpx.Client:
    secret = internal_secret((data_dir / "jwt.secret").read_text().strip(), entity)
    return party_client(base_url, f"lso-{entity}", secret)


def reserved(icm: httpx.Client) -> dict[str, float]:
    """Available Mbit/s per link, as PRESTO's topology reports it."""
    response = icm.post("/restconf/operations/get-topology-details/", json={"input": {}})
    links = response.json()["output"]["topology"]["link"]
    return {link["uuid"]: link["available-capacity"]["total-size"]["value"] for link in links}


def link_state(icm: httpx.Client, link_id: str) -> str:
    response = icm.post("/restconf/operations/get-topology-details/", json={"input": {}})
    links = response.json()["output"]["topology"]["link"]
    return str(next(link["operational-state"] for link in links if link["uuid"] == link_id))


def oam_path(presto: PrestoClient, icm: httpx.Client, service_id: str) -> list[str]:
    session = presto.start_performance_monitoring(service_id)[0]
    measurement = icm.get(f"{ADAGIO}/oam-sessions/{session['id']}").json()["measurement"]
    assert measurement["frameLossRatio"] == 0
    return list(measurement["path"])


def test_a_link_down_reroutes_the_service_and_its_clear_clears_the_alarm(
    presto: PrestoClient, icm: httpx.Client, events: EventListener
) -> None:
    with epl(presto, LDN_MAN) as service:
        assert service.route == DIRECT
        before = reserved(icm)
        with fault(icm, "link", "p-man--p-ldn") as ecm_alarm:  # either order names the link
            assert ecm_alarm["source"] == "link:p-ldn--p-man"
            raised = icm.get(f"{ADAGIO}/alarms", params={"state": "raised"}).json()
            assert [a["id"] for a in raised if a["source"] == "link:p-ldn--p-man"] == [ecm_alarm["id"]]
            moved = wait_until(lambda: presto.get_connectivity_service(service.uuid).route == VIA_BIR)
            assert moved
            after = presto.get_connectivity_service(service.uuid)
            assert after.operational_state == "ENABLED"

            held = held_by_elements(icm, service.uuid)
            assert set(held) == set(VIA_BIR)  # p-bir holds it, p-ldn no longer does
            assert held["pe-ldn-1"]["nniPeers"] == ["p-bir"]
            assert held["p-man"]["nniPeers"] == ["p-bir", "pe-man-1"]
            now = reserved(icm)
            assert now["p-bir--pe-ldn-1"] == before["p-bir--pe-ldn-1"] - 100
            assert now["p-bir--p-man"] == before["p-bir--p-man"] - 100
            assert now["p-ldn--pe-ldn-1"] == before["p-ldn--pe-ldn-1"] + 100
            assert now["p-ldn--p-man"] == before["p-ldn--p-man"] + 100
            assert now["p-man--pe-man-1"] == before["p-man--pe-man-1"]
            assert oam_path(presto, icm, service.uuid) == list(VIA_BIR)
            assert link_state(icm, "p-ldn--p-man") == "DISABLED"

            [alarm] = presto.get_alarms(service.uuid)
            assert alarm["id"] == ecm_alarm["id"] and alarm["state"] == "raised"
            assert alarm["source"] == "link:p-ldn--p-man" and alarm["probableCause"] == "linkDown"
            assert alarm["affectedConnectivityService"] == [service.uuid]
            assert wait_until(lambda: events.about("connectivityServiceRerouted", service.uuid))
            [rerouted] = events.about("connectivityServiceRerouted", service.uuid)
            assert rerouted["event"]["previousRoute"] == list(DIRECT)
            assert rerouted["event"]["route"] == list(VIA_BIR)
            assert events.about("alarmRaised", ecm_alarm["id"])

        assert wait_until(lambda: presto.get_alarms(service.uuid)[0]["state"] == "cleared")
        assert presto.get_alarms(service.uuid)[0]["clearedTime"]
        assert wait_until(lambda: events.about("alarmCleared", ecm_alarm["id"]))
        assert link_state(icm, "p-ldn--p-man") == "ENABLED"
        assert presto.get_connectivity_service(service.uuid).route == VIA_BIR  # no automatic revert


def test_without_another_route_the_service_is_disabled_until_the_fault_clears(
    presto: PrestoClient, icm: httpx.Client, events: EventListener
) -> None:
    """pe-ldn-2 has one link only: with it down, nothing can carry the service."""
    with epl(presto, ("site-ldn-docklands", "site-ldn-city")) as service:
        route = service.route
        with fault(icm, "link", "p-ldn--pe-ldn-2") as ecm_alarm:
            disabled = wait_until(
                lambda: presto.get_connectivity_service(service.uuid).operational_state == "DISABLED"
            )
            assert disabled
            assert presto.get_connectivity_service(service.uuid).route == route
            assert [a["state"] for a in presto.get_alarms(service.uuid)] == ["raised"]
            assert wait_until(
                lambda: events.about("connectivityServiceOperationalStateChanged", service.uuid)
            )
            [change] = events.about("connectivityServiceOperationalStateChanged", service.uuid)
            assert change["event"]["operationalState"] == "DISABLED"
            alarm_id = ecm_alarm["id"]
        enabled = wait_until(
            lambda: presto.get_connectivity_service(service.uuid).operational_state == "ENABLED"
        )
        assert enabled
        assert presto.get_alarms(service.uuid)[0]["id"] == alarm_id
        assert presto.get_alarms(service.uuid)[0]["state"] == "cleared"


def test_a_duplicate_alarm_changes_nothing(presto: PrestoClient, icm: httpx.Client, domain: Settings) -> None:
    with epl(presto, LDN_MAN) as service, fault(icm, "link", "p-ldn--p-man") as ecm_alarm:
        assert icm.put(f"{ADAGIO}/admin/faults/link/p-ldn--p-man").json()["id"] == ecm_alarm["id"]
        assert wait_until(lambda: presto.get_connectivity_service(service.uuid).route == VIA_BIR)
        before = reserved(icm)
        # The same alarm delivered again under another event id (e.g. re-sent by a restarted ECM).
        body = {"eventId": str(uuid.uuid4()), "eventType": "alarmRaised", "event": ecm_alarm}
        listener = f"{domain.base_url}/mefApi/adagio/alarmNotification/v1/listener/alarmRaised"
        assert httpx.post(listener, json=body).status_code == 401  # only this domain's ECM may raise one
        assert icm.post(listener, json=body).status_code == 204
        assert len(presto.get_alarms(service.uuid)) == 1
        assert presto.get_connectivity_service(service.uuid).route == VIA_BIR
        assert reserved(icm) == before
        raised = icm.get(f"{ADAGIO}/alarms", params={"state": "raised"}).json()
        assert [a["source"] for a in raised].count("link:p-ldn--p-man") == 1


def test_reroute_on_request_avoids_the_current_path_and_refuses_bad_input(
    presto: PrestoClient, icm: httpx.Client
) -> None:
    with epl(presto, LDN_MAN) as service:
        before = reserved(icm)
        with pytest.raises(PrestoError) as unknown_link:
            presto.reroute_connectivity_service(service.uuid, ["p-ldn--nowhere"])
        assert unknown_link.value.status == 422
        with pytest.raises(PrestoError) as unknown_service:
            presto.reroute_connectivity_service(str(uuid.uuid4()), avoid_current_path=True)
        assert unknown_service.value.status == 404
        extra = presto.http.post(
            "/restconf/operations/lso-reroute-connectivity-service/",
            json={"input": {"uuid": service.uuid, "avoidCurentPath": True}},
        )
        assert extra.status_code == 422
        assert presto.get_connectivity_service(service.uuid).route == DIRECT
        assert reserved(icm) == before

        moved = presto.reroute_connectivity_service(service.uuid, avoid_current_path=True)
        assert moved.route != DIRECT and moved.route[0] == "pe-ldn-1" and moved.route[-1] == "pe-man-1"
        assert set(held_by_elements(icm, service.uuid)) == set(moved.route)
        assert oam_path(presto, icm, service.uuid) == list(moved.route)
        assert presto.reroute_connectivity_service(service.uuid, ["p-ldn--p-man"]).route == moved.route


def test_no_other_route_on_request_is_a_conflict_and_changes_nothing(
    presto: PrestoClient, icm: httpx.Client
) -> None:
    with epl(presto, ("site-ldn-docklands", "site-ldn-city")) as service:
        before = reserved(icm)
        with pytest.raises(PrestoError) as refused:
            presto.reroute_connectivity_service(service.uuid, ["p-ldn--pe-ldn-2"])
        assert refused.value.status == 409
        assert presto.get_connectivity_service(service.uuid).route == service.route
        assert presto.get_connectivity_service(service.uuid).operational_state == "ENABLED"
        assert reserved(icm) == before
    with pytest.raises(PrestoError) as bad_state:
        presto._call("lso-get-alarms", {"state": "bogus"})
    assert bad_state.value.status == 422


def test_sigkill_mid_reroute_then_restart_finishes_it_once(tmp_path: Path) -> None:
    """Killed after the new element committed and before the switch-over did: the restarted domain
    resumes the reroute, and every element holds the service once, on the new route only."""
    data_dir, port = tmp_path / "provider", free_port()
    with domain_process(data_dir, port) as (process, base_url):
        icm = _as_entity(base_url, data_dir, "icm")
        presto = PrestoClient(_as_entity(base_url, data_dir, "sof"))
        with epl(presto, LDN_MAN, cleanup=False) as service:
            assert service.route == DIRECT
            latency = icm.put(f"{ADAGIO}/admin/commit-latency", json={"milliseconds": COMMIT_LATENCY_MS})
            latency.raise_for_status()
            assert icm.put(f"{ADAGIO}/admin/faults/link/p-ldn--p-man").status_code == 200
            wait_until(lambda: icm.get(f"{ADAGIO}/elements/p-bir/configurations/{service.uuid}").is_success)
            # p-bir (new to the route) has committed; the switch-over of the others takes a second.
            assert presto.get_connectivity_service(service.uuid).route == DIRECT
            process.kill()
            process.wait()

    with domain_process(data_dir, port) as (_process, base_url):
        icm = _as_entity(base_url, data_dir, "icm")
        presto = PrestoClient(_as_entity(base_url, data_dir, "sof"))
        assert wait_until(lambda: presto.get_connectivity_service(service.uuid).route == VIA_BIR, timeout=60)
        assert wait_until(lambda: set(held_by_elements(icm, service.uuid)) == set(VIA_BIR))
        held = element_configurations(icm)
        assert all([c["serviceId"] for c in held[e]].count(service.uuid) == 1 for e in VIA_BIR)
        free = reserved(icm)
        capacity = {link_id(link.a, link.z): link.capacity_mbps for link in demo_footprint().links}
        on_route = {"p-bir--pe-ldn-1", "p-bir--p-man", "p-man--pe-man-1"}
        assert {link for link, mbps in free.items() if mbps < capacity[link]} == on_route
        assert all(free[link] == capacity[link] - 100 for link in on_route)
        [rerouted] = [a for a in presto.get_alarms(service.uuid) if a["state"] == "raised"]
        assert rerouted["source"] == "link:p-ldn--p-man"


def test_a_transit_element_down_reroutes_and_a_uni_down_disables(
    presto: PrestoClient, icm: httpx.Client
) -> None:
    with epl(presto, LDN_MAN) as service:
        with fault(icm, "element", "p-ldn") as ecm_alarm:
            assert ecm_alarm["probableCause"] == "equipmentFailure"
            assert wait_until(lambda: presto.get_connectivity_service(service.uuid).route == VIA_BIR)
            assert wait_until(lambda: set(held_by_elements(icm, service.uuid)) == set(VIA_BIR))
        uni = f"{service.route[-1]}/{_port_of(presto, service.uuid)}"
        with fault(icm, "port", uni):
            assert wait_until(
                lambda: presto.get_connectivity_service(service.uuid).operational_state == "DISABLED"
            )
            assert presto.get_connectivity_service(service.uuid).route == VIA_BIR
        assert wait_until(
            lambda: presto.get_connectivity_service(service.uuid).operational_state == "ENABLED"
        )
        assert [a["state"] for a in presto.get_alarms(service.uuid)] == ["cleared", "cleared"]


def _port_of(presto: PrestoClient, service_id: str) -> str:
    """The Z-end UNI port of the service, from its SIP."""
    raw = presto.get_connectivity_service(service_id).raw
    sip_id = raw["end-point"][1]["service-interface-point"]["service-interface-point-id"]
    response = presto.http.post(
        "/restconf/operations/get-service-interface-point-details/",
        json={"input": {"sip-id-or-name": sip_id}},
    )
    names = response.json()["output"]["sip"]["name"]
    return str(next(n["value"] for n in names if n["value-name"] == "port"))


def test_an_element_refusing_the_new_route_leaves_the_service_on_its_old_one(
    presto: PrestoClient, icm: httpx.Client, domain: Settings
) -> None:
    """p-bir's management is down without an alarm (ICM still routes through it): its 503 undoes the
    reroute — the elements hold the old route, the bandwidth is where it was, the service is ENABLED."""
    with epl(presto, LDN_MAN) as service, unreachable(domain, "p-bir"):
        before = reserved(icm)
        with pytest.raises(PrestoError) as refused:
            presto.reroute_connectivity_service(service.uuid, ["p-ldn--p-man"])
        assert refused.value.status == 502 and "p-bir" in str(refused.value.body)
        after = presto.get_connectivity_service(service.uuid)
        assert after.route == DIRECT and after.operational_state == "ENABLED"
        held = held_by_elements(icm, service.uuid)
        assert set(held) == set(DIRECT)
        assert held["pe-ldn-1"]["nniPeers"] == ["p-ldn"]
        assert reserved(icm) == before


@contextmanager
def unreachable(domain: Settings, element: str) -> Iterator[None]:
    """The sim element refuses configuration (503) without raising an alarm."""
    db = Database(domain.database_url)
    fault_id = f"element:{element}"
    with db.session() as session:
        FAULTS.add(session, {"id": fault_id, "kind": "element", "target": element, "state": "active"})
    try:
        yield
    finally:
        with db.session() as session:
            FAULTS.delete(session, fault_id)
        db.dispose()
