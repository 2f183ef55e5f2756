"""EPL service orders whose EVC carries an SLS, as BUS maps the product's SLS (MEF 101 attribute names)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.bus.test_order_bodies import epl_order as product_epl_order
from tests.sof.orders import ORDERING, epl_order
from tests.sof.test_activation import services_of, settled

PAIR = [{"fromCarrierEthernetServiceEndPoint": "A", "toCarrierEthernetServiceEndPoint": "Z"}]


def sls(frame_delay_ms: float, frame_loss_percent: float = 1.0) -> dict[str, Any]:
    """One CoS Name "H" with a frame delay and a frame loss ratio objective."""
    return sls_of(
        consecutive_intervals=3,
        oneWayFrameDelayPmMetric=[frame_delay_metric(PAIR, 99.9, frame_delay_ms)],
        oneWayFrameLossRatioPmMetric=[{"orderedPairList": PAIR, "oneWayFlrObjective": frame_loss_percent}],
    )


def sls_of(consecutive_intervals: int, **metrics: list[dict[str, Any]]) -> dict[str, Any]:
    """An SLS of one month with one CoS Name "H" (Δt one interval, C 0.5, n ``consecutive_intervals``)
    and the performance ``metrics`` given by their MEF 101 names."""
    return {
        "startTime": "2026-01-01T00:00:00.000Z",
        "timeDuration": {"timeDurationValue": 1, "timeDurationUnits": "MONTH"},
        "slsCosNameEntry": [
            {
                "cosName": "H",
                "deltaT": 1,
                "thresholdC": 0.5,
                "consecutiveIntervalN": consecutive_intervals,
                **metrics,
            }
        ],
    }


def frame_delay_metric(pairs: list[dict[str, str]], percentile: float, objective_ms: float) -> dict[str, Any]:
    return {
        "orderedPairList": pairs,
        "oneWayFdPercentile": percentile,
        "oneWayFdObjective": {"timeDurationValue": objective_ms, "timeDurationUnits": "MS"},
    }


def with_sls(order: dict[str, Any], level: dict[str, Any]) -> dict[str, Any]:
    """``order`` (an EPL service order) with the SLS ``level`` on its EVC."""
    evc = next(item for item in order["serviceOrderItem"] if item["id"] == "evc")
    evc["service"]["serviceConfiguration"]["carrierEthernetServiceLevelSpecification"] = level
    return order


def epl_order_with_sls(frame_delay_ms: float, **sites: Any) -> dict[str, Any]:
    return with_sls(epl_order(**sites), sls(frame_delay_ms))


def epl_product_order_with_sls(frame_delay_ms: float, site_a: str, site_z: str) -> dict[str, Any]:
    """A CANTATA product order for an EPL whose product carries the SLS (``carrierEthernetSls``)."""
    order = product_epl_order(site_a, site_z)
    evc = next(item for item in order["productOrderItem"] if item["id"] == "evc")
    evc["product"]["productConfiguration"]["carrierEthernetSls"] = [sls(frame_delay_ms)]
    return order


def active_evc(bus: httpx.Client, order: dict[str, Any]) -> dict[str, Any]:
    """The EVC of ``order`` (placed over LEGATO as BUS) once the order has completed."""
    created = bus.post(f"{ORDERING}/serviceOrder", json=order)
    assert created.status_code == 201, created.text
    done = settled(bus, created.json()["id"])
    assert done["state"] == "completed", done
    return next(s for s in services_of(bus, done) if s["serviceType"] == "EVC")
