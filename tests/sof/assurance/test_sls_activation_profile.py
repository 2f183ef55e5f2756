"""Activation opens the PM sessions with SOF's measurement profiles (``measurements.profiles_of``), so a
service is measured from activation on — not only from its first SLS collection. An EPL without an SLS
shows it: no SLS assessment ever sends a profile for it, yet its sessions measure by one."""

from __future__ import annotations

from typing import Any

import httpx

from tests.harness import wait_until
from tests.sof.assurance.sls_orders import active_evc
from tests.sof.orders import epl_order
from tests.sof.test_activation import characteristic

MEASUREMENTS = "/restconf/operations/lso-get-performance-measurements/"


def measured(bus: httpx.Client, connectivity_service: str) -> list[dict[str, Any]]:
    body = {"input": {"service-id-or-name": connectivity_service}}
    answer = bus.post(MEASUREMENTS, json=body)
    assert answer.status_code == 200, answer.text
    pairs: list[dict[str, Any]] = answer.json()["output"]["measurement"]
    return pairs


def test_activation_gives_the_pm_sessions_their_profile(
    bus: httpx.Client,
    terminated: Any,
) -> None:
    evc = terminated(active_evc(bus, epl_order()))
    assert "carrierEthernetServiceLevelSpecification" not in evc["serviceConfiguration"]
    connectivity = characteristic(evc, "connectivityService")

    pairs = measured(bus, connectivity)
    assert len(pairs) == 2  # one PM session per direction
    for pair in pairs:
        # CoS "H" without an SLS entry: Δt 1 s and C 0.5, the default bins, Δτ 1 s
        (profile,) = pair["profile"]
        assert (profile["cosName"], profile["deltaTS"], profile["thresholdC"]) == ("H", 1, 0.5)
        assert profile["ifdvDeltaTauUs"] == 1_000_000
    # and the sessions measure by it: intervals in both directions
    wait_until(lambda: all(pair["interval"] for pair in measured(bus, connectivity)), timeout=30)
