"""PM sessions through PRESTO and ADAGIO: the measurement profile is given once, with
``lso-start-performance-monitoring``, kept by ECM with each session, and reading the intervals needs only
the service and ``since``."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from lso.settings import Settings
from lso.sof.presto_client import BandwidthProfile, EndPoint, PrestoClient, PrestoError
from tests.harness import wait_until

PROFILE: dict[str, Any] = {
    "cosName": "H",
    "intervalS": 1,
    "deltaTS": 1,
    "thresholdC": 0.1,
    "fdBinsUs": [0, 1_000, 10_000],
    "ifdvBinsUs": [0, 100],
    "ifdvDeltaTauUs": 100_000,
}


def _service(presto: PrestoClient) -> str:
    key = uuid.uuid4().hex
    a = presto.allocate_sip("site-ldn-city", f"{key}-a", 1000)
    z = presto.allocate_sip("site-ldn-docklands", f"{key}-z", 1000)
    service_id = str(uuid.uuid4())
    presto.create_connectivity_service(service_id, [EndPoint(a.uuid), EndPoint(z.uuid)], BandwidthProfile(50))
    return service_id


def test_the_profile_is_given_once_and_kept_with_the_sessions(
    domain: Settings, internal: Callable[[str], httpx.Client]
) -> None:
    presto = PrestoClient(internal("sof"))
    service_id = _service(presto)
    try:
        unmonitored = presto.get_performance_measurements(service_id)
        assert [(p["profile"], p["interval"]) for p in unmonitored] == [([], []), ([], [])]

        sessions = presto.start_performance_monitoring(service_id, [PROFILE])
        assert len(sessions) == 2  # one per ordered pair: MEF 10.4 objectives hold per direction
        ends = [(s["aEnd"]["element"], s["zEnd"]["element"]) for s in sessions]
        assert ends[1] == ends[0][::-1]
        # Re-opening without a profile (as the activation does) keeps the one the sessions hold.
        presto.start_performance_monitoring(service_id)

        since = int(time.time()) - 5
        measured = wait_until(
            lambda: (
                (found := presto.get_performance_measurements(service_id, since))
                and all(p["interval"] for p in found)
                and found
            )
        )
        for pair in measured:
            assert pair["profile"] == [PROFILE]
            assert all(i["cosName"] == "H" and i["start"] >= since for i in pair["interval"])
            assert all(len(i["fd_bins"]) == 3 and len(i["high_loss"]) == 1 for i in pair["interval"])
    finally:
        presto.delete_connectivity_service(service_id)


def test_a_profile_ecm_cannot_measure_by_is_refused(internal: Callable[[str], httpx.Client]) -> None:
    presto = PrestoClient(internal("sof"))
    service_id = _service(presto)
    try:
        presto.start_performance_monitoring(service_id, [{**PROFILE, "ifdvDeltaTauUs": 15_000}])
        raise AssertionError("a Δτ that is not a multiple of the probe period was accepted")
    except PrestoError as refused:
        assert refused.status == 422
    finally:
        presto.delete_connectivity_service(service_id)
