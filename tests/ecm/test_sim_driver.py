"""The `sim` driver: idempotent, persisted configuration; faults raise alarms; impairments show in OAM."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from lso.db import Database, migrate
from lso.ecm.drivers import (
    BandwidthProfileFlow,
    CounterQuery,
    DriverError,
    ElementConfiguration,
    Impairment,
    ServicePort,
    ServiceTestRequest,
    Traffic,
    UniPortConfiguration,
)
from lso.ecm.drivers.sim import SimDriver, seed
from lso.footprint import demo_footprint
from lso.mef.dates import iso, utcnow

CIR = 100_000_000
SERVICE = "svc-1"
A = ServicePort(element="pe-ldn-1", port="uni-1")
Z = ServicePort(element="pe-ldn-2", port="uni-7")


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'ecm.db'}"
    migrate(url)
    db = Database(url)
    with db.session() as session:
        seed(session, demo_footprint())
    db.dispose()
    return url


@pytest.fixture
def driver(url: str) -> Iterator[SimDriver]:
    db = Database(url)
    yield SimDriver(db)
    db.dispose()


def _uni(port: str, cir: int = CIR) -> UniPortConfiguration:
    return UniPortConfiguration(
        port=port, ingressBandwidthProfile=BandwidthProfileFlow(cir=cir, cbs=12_176, eir=0, ebs=0)
    )


def _configure_service(driver: SimDriver, cir: int = CIR) -> None:
    """pe-ldn-1/uni-1 — p-ldn — pe-ldn-2/uni-7 (3 + 8 km)."""
    driver.configure(
        "pe-ldn-1", SERVICE, ElementConfiguration(vni=5001, uniPorts=[_uni("uni-1", cir)], nniPeers=["p-ldn"])
    )
    driver.configure("p-ldn", SERVICE, ElementConfiguration(vni=5001, nniPeers=["pe-ldn-1", "pe-ldn-2"]))
    driver.configure(
        "pe-ldn-2", SERVICE, ElementConfiguration(vni=5001, uniPorts=[_uni("uni-7", cir)], nniPeers=["p-ldn"])
    )


def test_seed_is_idempotent_and_builds_the_inventory(url: str, driver: SimDriver) -> None:
    with driver.db.session() as session:
        seed(session, demo_footprint())
    elements = driver.elements()
    assert len(elements) == len(demo_footprint().elements)
    pe = driver.element("pe-ldn-1")
    assert sum(p["kind"] == "UNI" for p in pe["ports"]) == 120
    assert {p["peer"] for p in pe["ports"] if p["kind"] == "NNI"} == {"p-ldn", "p-bir"}


def test_configuration_is_idempotent_per_element_and_service(driver: SimDriver) -> None:
    config = ElementConfiguration(vni=7, uniPorts=[_uni("uni-1")], nniPeers=["p-ldn"])
    first, changed = driver.configure("pe-ldn-1", SERVICE, config)
    again, changed_again = driver.configure("pe-ldn-1", SERVICE, config)
    assert (changed, changed_again) == (True, False)
    assert again["configuredAt"] == first["configuredAt"]
    _, changed = driver.configure("pe-ldn-1", SERVICE, config.model_copy(update={"vni": 8}))
    assert changed
    held = driver.configurations("pe-ldn-1")
    assert [(c["serviceId"], c["vni"]) for c in held] == [(SERVICE, 8)]
    driver.unconfigure("pe-ldn-1", SERVICE)
    driver.unconfigure("pe-ldn-1", SERVICE)
    assert driver.configurations("pe-ldn-1") == []
    _, changed = driver.configure("pe-ldn-1", SERVICE, config)
    assert changed and len(driver.configurations("pe-ldn-1")) == 1


def test_invalid_configuration_is_refused(driver: SimDriver) -> None:
    with pytest.raises(DriverError) as bad_port:
        driver.configure("pe-ldn-1", SERVICE, ElementConfiguration(vni=1, uniPorts=[_uni("uni-999")]))
    with pytest.raises(DriverError) as bad_peer:
        driver.configure("pe-ldn-1", SERVICE, ElementConfiguration(vni=1, nniPeers=["pe-man-1"]))
    with pytest.raises(DriverError) as unknown:
        driver.configure("nowhere", SERVICE, ElementConfiguration(vni=1))
    assert (bad_port.value.status, bad_peer.value.status, unknown.value.status) == (422, 422, 404)
    assert driver.configurations("pe-ldn-1") == []


def test_configuration_survives_a_new_driver_on_the_same_database(url: str, driver: SimDriver) -> None:
    _configure_service(driver)
    restarted = SimDriver(Database(url))
    assert [c["serviceId"] for c in restarted.configurations("p-ldn")] == [SERVICE]
    _, changed = restarted.configure(
        "pe-ldn-1", SERVICE, ElementConfiguration(vni=5001, uniPorts=[_uni("uni-1")], nniPeers=["p-ldn"])
    )
    assert not changed
    assert len(restarted.configurations("pe-ldn-1")) == 1


def test_element_fault_raises_an_alarm_and_refuses_configuration(driver: SimDriver) -> None:
    alarm = driver.inject_fault("element", "pe-bir-1")
    assert driver.inject_fault("element", "pe-bir-1")["id"] == alarm["id"]
    assert driver.element("pe-bir-1")["operationalState"] == "DISABLED"
    raised = driver.alarms("pe-bir-1", "raised")
    assert [(a["source"], a["perceivedSeverity"]) for a in raised] == [("element:pe-bir-1", "CRITICAL")]
    with pytest.raises(DriverError) as refused:
        driver.configure("pe-bir-1", SERVICE, ElementConfiguration(vni=1))
    assert refused.value.status == 503
    driver.clear_fault("element", "pe-bir-1")
    assert driver.alarms("pe-bir-1", "raised") == []
    assert driver.alarms("pe-bir-1", "cleared")[0]["clearedTime"]
    assert driver.element("pe-bir-1")["operationalState"] == "ENABLED"


def test_link_fault_raises_an_alarm_and_cuts_the_service(driver: SimDriver) -> None:
    _configure_service(driver)
    assert driver.measure(SERVICE, A, Z)["frameLossRatio"] == 0
    driver.inject_fault("link", "p-ldn--pe-ldn-1")
    assert [a["source"] for a in driver.alarms(None, "raised")] == ["link:p-ldn--pe-ldn-1"]
    assert driver.measure(SERVICE, A, Z)["frameLossRatio"] == 1


def test_impairments_change_measurements(driver: SimDriver) -> None:
    _configure_service(driver)
    before = driver.measure(SERVICE, A, Z)
    # 11 km at 5 µs/km plus 3 elements at 15 µs, plus up to 12 µs of jitter.
    assert 0.1 <= before["frameDelayMs"] <= 0.112
    assert before["path"] == ["pe-ldn-1", "p-ldn", "pe-ldn-2"]
    driver.impair("p-ldn--pe-ldn-1", Impairment(extraDelayMs=5, lossRatio=0.02))
    after = driver.measure(SERVICE, A, Z)
    assert 5.1 <= after["frameDelayMs"] <= 5.7
    assert after["frameDelayVariationMs"] > before["frameDelayVariationMs"]
    assert after["frameLossRatio"] == pytest.approx(0.02)
    driver.clear_impairment("p-ldn--pe-ldn-1")
    assert driver.measure(SERVICE, A, Z)["frameLossRatio"] == 0


def test_activation_test_passes_within_profile_and_fails_over_it(driver: SimDriver) -> None:
    _configure_service(driver)
    ok = driver.run_test(ServiceTestRequest(serviceId=SERVICE, aEnd=A, zEnd=Z, cir=CIR))
    assert ok["passed"], ok
    policing = next(s for s in ok["configurationTest"] if s["step"] == "policing")
    assert policing["offeredBps"] == CIR * 5 // 4
    assert policing["deliveredBps"] == pytest.approx(CIR, rel=0.01)
    assert ok["performanceTest"]["throughputBps"] == pytest.approx(CIR, rel=0.01)
    # The network polices at the configured 100 Mbit/s: a test at 150 Mbit/s cannot get its CIR.
    too_much = driver.run_test(ServiceTestRequest(serviceId=SERVICE, aEnd=A, zEnd=Z, cir=CIR * 3 // 2))
    assert not too_much["passed"]
    assert not next(s for s in too_much["configurationTest"] if s["step"] == "cir-100%")["passed"]
    driver.impair("p-ldn", Impairment(lossRatio=0.01))
    lossy = driver.run_test(ServiceTestRequest(serviceId=SERVICE, aEnd=A, zEnd=Z, cir=CIR))
    assert not lossy["passed"] and not lossy["performanceTest"]["passed"]


def test_test_of_an_unconfigured_path_is_refused(driver: SimDriver) -> None:
    _configure_service(driver)
    driver.unconfigure("p-ldn", SERVICE)
    with pytest.raises(DriverError) as broken:
        driver.run_test(ServiceTestRequest(serviceId=SERVICE, aEnd=A, zEnd=Z, cir=CIR))
    assert broken.value.status == 409


def test_counters_follow_the_traffic_model_through_the_profile(driver: SimDriver) -> None:
    _configure_service(driver, cir=8_000_000)
    ten_seconds_ago = iso(utcnow() - timedelta(seconds=10))
    driver.set_traffic(
        "pe-ldn-1", SERVICE, "uni-1", Traffic(offeredBps=16_000_000, frameBytes=1000, since=ten_seconds_ago)
    )
    counters = driver.counters(
        [CounterQuery(element="pe-ldn-1"), CounterQuery(element="pe-ldn-2", port="uni-7")]
    )
    assert [(c["element"], c["port"]) for c in counters] == [("pe-ldn-1", "uni-1"), ("pe-ldn-2", "uni-7")]
    ingress = counters[0]["ingress"]
    # ≥10 s at 2000 frames/s, CIR 1000 frames/s, no EIR: about half green, half red.
    assert ingress["greenFrames"] >= 10_000 and ingress["redFrames"] >= 9_900
    assert abs(ingress["greenFrames"] - ingress["redFrames"]) <= 0.01 * ingress["greenFrames"] + 20
    assert ingress["yellowFrames"] == 0
