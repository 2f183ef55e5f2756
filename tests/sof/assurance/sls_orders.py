"""EPL service orders whose EVC carries an SLS, as BUS maps the product's SLS (MEF 101 attribute names)."""

from __future__ import annotations

from typing import Any

from tests.bus.test_order_bodies import epl_order as product_epl_order
from tests.sof.orders import epl_order

PAIR = [{"fromCarrierEthernetServiceEndPoint": "A", "toCarrierEthernetServiceEndPoint": "Z"}]


def sls(frame_delay_ms: float, frame_loss_percent: float = 1.0) -> dict[str, Any]:
    """One CoS Name "H" with a frame delay and a frame loss ratio objective."""
    return {
        "startTime": "2026-01-01T00:00:00.000Z",
        "timeDuration": {"timeDurationValue": 1, "timeDurationUnits": "MONTH"},
        "slsCosNameEntry": [
            {
                "cosName": "H",
                "deltaT": 1,
                "thresholdC": 0.5,
                "consecutiveIntervalN": 3,
                "oneWayFrameDelayPmMetric": [
                    {
                        "orderedPairList": PAIR,
                        "oneWayFdPercentile": 99.9,
                        "oneWayFdObjective": {"timeDurationValue": frame_delay_ms, "timeDurationUnits": "MS"},
                    }
                ],
                "oneWayFrameLossRatioPmMetric": [
                    {"orderedPairList": PAIR, "oneWayFlrObjective": frame_loss_percent}
                ],
            }
        ],
    }


def epl_order_with_sls(frame_delay_ms: float, **sites: str) -> dict[str, Any]:
    order = epl_order(**sites)
    evc = next(item for item in order["serviceOrderItem"] if item["id"] == "evc")
    evc["service"]["serviceConfiguration"]["carrierEthernetServiceLevelSpecification"] = sls(frame_delay_ms)
    return order


def epl_product_order_with_sls(frame_delay_ms: float, site_a: str, site_z: str) -> dict[str, Any]:
    """A CANTATA product order for an EPL whose product carries the SLS (``carrierEthernetSls``)."""
    order = product_epl_order(site_a, site_z)
    evc = next(item for item in order["productOrderItem"] if item["id"] == "evc")
    evc["product"]["productConfiguration"]["carrierEthernetSls"] = [sls(frame_delay_ms)]
    return order
