"""PM sessions on the linux driver: their MEF 35.1 intervals are measured by real frames, so a queue on
the path shows as delay and a UNI taken down as loss and high-loss Δt, in the next interval."""

from __future__ import annotations

import subprocess
import time
from typing import Any

import numpy as np

from lso.db import Database
from lso.ecm.drivers import MeasurementProfile, OamSessionRequest, ServicePort
from lso.ecm.drivers.linux.driver import LinuxDriver
from lso.ecm.drivers.linux.monitoring import frames_per_s
from lso.ecm.drivers.linux.probe import run_probe
from lso.sof.assurance import measurements, metrics, series
from tests.ecm.linux.conftest import epl
from tests.harness import wait_until
from tests.sof.assurance.test_metrics import fd, pair

A = ServicePort(element="pe-ldn-1", port="uni-1")
Z = ServicePort(element="pe-bri-1", port="uni-2")
INTERVAL_S = 2
PROFILE = MeasurementProfile(
    cosName="H",
    intervalS=INTERVAL_S,
    deltaTS=1,
    thresholdC=0.1,
    fdBinsUs=[0, 1_000, 10_000, 100_000],
    ifdvBinsUs=[0, 1_000, 10_000],
    ifdvDeltaTauUs=100_000,
)
RATE = frames_per_s([PROFILE.model_dump()])


def _monitored(driver: LinuxDriver) -> None:
    epl(driver, "svc-1", 5001, ("pe-ldn-1", "uni-1"), ["p-ldn"], ("pe-bri-1", "uni-2"))
    request = OamSessionRequest(serviceId="svc-1", aEnd=A, zEnd=Z, profile=[PROFILE])
    driver.start_oam_session("pm-1", request)


def _interval_from(driver: LinuxDriver, since: float) -> dict[str, Any]:
    """The first completed interval that starts at or after ``since``."""
    found = wait_until(
        lambda: driver.oam_intervals("pm-1", int(since + 0.999))["interval"], timeout=4 * INTERVAL_S + 5
    )
    first: dict[str, Any] = found[0]
    return first


def test_intervals_are_measured_and_a_uni_down_shows_as_loss(driver: LinuxDriver) -> None:
    _monitored(driver)
    clean = _interval_from(driver, time.time())
    frames = INTERVAL_S * RATE
    assert clean["cosName"] == "H"
    assert clean["start"] % INTERVAL_S == 0
    assert clean["offered"] == clean["delivered"] == frames
    assert sum(clean["fd_bins"]) == frames
    assert 0 < clean["fd_min_us"] <= clean["fd_max_us"] < 100_000  # veths and bridges: far below 100 ms
    assert clean["high_loss"] == [0] * INTERVAL_S
    assert driver.oam_intervals("pm-1", None)["profile"] == [PROFILE.model_dump()]

    driver.inject_fault("port", "pe-bri-1/uni-2")
    try:
        down = _interval_from(driver, time.time())
    finally:
        driver.clear_fault("port", "pe-bri-1/uni-2")
    assert down["offered"] == frames
    assert down["delivered"] == 0
    assert down["high_loss"] == [1] * INTERVAL_S
    assert sum(down["fd_bins"]) == 0

    back = _interval_from(driver, time.time() + 0.5)  # the UNI's carrier takes a moment to return
    assert back["delivered"] == back["offered"] == frames


def test_a_queue_on_the_path_shows_as_delay_in_the_next_interval(driver: LinuxDriver) -> None:
    """A 2 Mbit/s TBF with a 50 kB queue on the p-ldn → pe-bri-1 link, offered 4 Mbit/s: the queue fills
    and holds every frame ≈ 200 ms (50 kB at 2 Mbit/s)."""
    _monitored(driver)
    clean = _interval_from(driver, time.time())
    assert clean["fd_max_us"] < 100_000
    topology = driver.plane.topology
    ns, link = topology.element_ns("p-ldn"), topology.link("p-ldn", "pe-bri-1").ifname
    tbf = ["tc", "qdisc", "replace", "dev", link, "root", "tbf", "rate", "2mbit", "burst", "3000"]
    subprocess.run(["ip", "netns", "exec", ns, *tbf, "limit", "50000"], check=True)
    try:
        started = time.time()
        run_probe(driver.endpoint(A), driver.endpoint(Z), 4_000_000, 1000, 2 * INTERVAL_S + 1)
        ended = time.time()
    finally:
        subprocess.run(["ip", "netns", "exec", ns, "tc", "qdisc", "del", "dev", link, "root"], check=True)
    queued = [
        i
        for i in _all_until(driver, ended)
        if i["start"] >= started + 0.5 and i["start"] + INTERVAL_S <= ended
    ]
    assert queued, "no whole interval fell inside the queued period"
    assert all(i["delivered"] and i["fd_min_us"] >= 100_000 for i in queued)
    assert all(i["fd_bins"][-1] == i["delivered"] for i in queued)  # every delivered frame ≥ 100 ms
    assert _delay_objective_met(clean) is True
    assert _delay_objective_met(*queued) is False
    after = _interval_from(driver, time.time())
    assert after["fd_max_us"] < 100_000


def test_a_restarted_driver_measures_its_sessions_by_their_persisted_profile(
    database: Database, driver: LinuxDriver
) -> None:
    _monitored(driver)
    _interval_from(driver, time.time())
    driver.stop()  # as after kill -9: the records in memory are gone, the session and its profile stay
    restarted = LinuxDriver(database, driver.prefix, dispatch=lambda _ids: None)
    restarted.start()
    try:
        assert restarted.oam_intervals("pm-1", None) == {
            "sessionId": "pm-1",
            "profile": [PROFILE.model_dump()],
            "interval": [],
        }
        after = _interval_from(restarted, time.time())
        assert after["offered"] == after["delivered"] == INTERVAL_S * RATE
    finally:
        restarted.stop()


def _delay_objective_met(*records: dict[str, Any]) -> bool | None:
    """SOF's SLS assessment, unchanged, on these intervals as ICM hands them over: d(99) ≤ 50 ms."""
    profile = series.MeasurementProfile(
        INTERVAL_S, 1, 0.1, tuple(PROFILE.fdBinsUs), tuple(PROFILE.ifdvBinsUs), PROFILE.ifdvDeltaTauUs
    )
    found = np.concatenate([measurements.record_of(profile, record) for record in records])
    measured = series.IntervalSeries(series.SeriesKey("svc-1", "A", "Z", "H"), profile, found)
    entry = {"cosName": "H", "deltaT": 1, "thresholdC": 0.1, "consecutiveIntervalN": 1}
    sls = {"slsCosNameEntry": [entry | fd(99, 50, pair("A", "Z"))]}
    end = records[-1]["start"] + INTERVAL_S
    return metrics.assess([measured], sls, records[0]["start"], end).met


def _all_until(driver: LinuxDriver, end: float) -> list[dict[str, Any]]:
    """Every interval, once the last one that began before ``end`` has completed."""
    last_start = int(end) // INTERVAL_S * INTERVAL_S
    return wait_until(
        lambda: (
            (found := driver.oam_intervals("pm-1", None)["interval"])
            and found[-1]["start"] >= last_start
            and found
        ),
        timeout=4 * INTERVAL_S + 5,
    )
