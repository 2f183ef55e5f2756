"""Reading a ``carrierEthernetServiceLevelSpecification`` (MEF 10.4 §8.8, MEF 26.2 §12.13): the objectives
of every CoS Name entry with their parameters, as :mod:`metrics` assesses them.

Both spellings found in the MEF documents are read: the product schema's (``orderedPairList`` of
``fromCarrierEthernetServiceEndPoint`` / ``toCarrierEthernetServiceEndPoint``, ``timeDurationValue`` /
``timeDurationUnits``) and MEF 101's (``orderedPairs`` of ``fromUni`` / ``toUni``, ``number`` / ``unit``).
Objectives are held in µs (delays), % (FLR, availability) or counts (HLI, CHLI).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_MICROSECONDS = {
    "NS": 1e-3,
    "US": 1.0,
    "MS": 1e3,
    "SEC": 1e6,
    "MIN": 6e7,
    "HOUR": 3.6e9,
    "nanoSeconds": 1e-3,
    "microSeconds": 1.0,
    "milliSeconds": 1e3,
    "seconds": 1e6,
}


def duration_us(value: Any) -> float | None:
    """An SLS time duration ({timeDurationValue, timeDurationUnits} or {number, unit}) in µs."""
    if not isinstance(value, dict):
        return None
    amount = value.get("timeDurationValue", value.get("number"))
    unit = _MICROSECONDS.get(str(value.get("timeDurationUnits", value.get("unit"))))
    return None if amount is None or unit is None else float(amount) * unit


@dataclass(frozen=True)
class CosParameters:
    """The availability parameters of one SLS CoS Name entry (MEF 10.4 §8.8)."""

    cos_name: str
    delta_t_s: int
    threshold_c: float
    n: int


@dataclass(frozen=True)
class SlsObjective:
    """One performance objective of one CoS Name entry: the metric (its SLS list attribute), the ordered
    pairs S, its parameters and the objective — µs for delays, % for FLR and availability, a count for
    HLI and CHLI."""

    metric: str
    cos: CosParameters
    pairs: tuple[tuple[str, str], ...]
    objective: float
    percentile: float | None = None
    p: int | None = None
    delta_tau_us: float | None = None
    sets: tuple[tuple[tuple[str, str], ...], ...] = ()
    k: int | None = None


# metric → (list attributes in the product / MEF 101 schemas, objective attributes, kind of objective)
_SLS_METRICS = {
    "oneWayFrameDelay": (("oneWayFrameDelayPmMetric",), ("oneWayFdObjective",), "time"),
    "oneWayMeanFrameDelay": (("oneWayMeanFrameDelayPmMetric",), ("oneWayMfdObjective",), "time"),
    "oneWayFrameDelayRange": (
        ("oneWayFrameDelayRangePmMetric", "oneWayMeanFrameDelayRangePmMetric"),
        ("oneWayFdrObjective",),
        "time",
    ),
    "oneWayInterFrameDelayVariation": (
        ("oneWayInterFrameDelayVariationPmMetric",),
        ("oneWayIfdvObjective",),
        "time",
    ),
    "oneWayFrameLossRatio": (
        ("oneWayFrameLossRatioPmMetric",),
        ("oneWayFlrObjective", "oneWayFrameLossRatioObjective"),
        "number",
    ),
    "oneWayAvailability": (("oneWayAvailabilityPmMetric",), ("oneWayAvailabilityObjective",), "number"),
    "oneWayHighLossIntervals": (
        ("oneWayHighLossIntervalsPmMetric", "oneWayHighLossIntervalPmMetric"),
        ("oneWayHighLossIntervalsObjective",),
        "number",
    ),
    "oneWayConsecutiveHighLossIntervals": (
        ("oneWayConsecutiveHighLossIntervalsPmMetric",),
        ("oneWayChliObjective",),
        "number",
    ),
    "oneWayComposite": (("oneWayCompositePmMetric",), ("cpmObjective",), "number"),
    "oneWayGroupAvailability": (
        ("oneWayGroupAvailabilityPmMetric",),
        ("oneWayGroupAvailabilityObjective",),
        "number",
    ),
}
AT_LEAST = ("oneWayAvailability", "oneWayGroupAvailability", "oneWayComposite")
"""The metrics whose objective is a minimum (every other one is a maximum)."""
_PERCENTILES = ("oneWayFdPercentile", "oneWayFdrPercentile", "oneWayIfdvPercentile")


def _pairs(item: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    pairs = item.get("orderedPairList") or item.get("orderedPairs") or item.get("orderedPairsList") or []
    return tuple(
        (
            str(pair.get("fromCarrierEthernetServiceEndPoint", pair.get("fromUni", ""))),
            str(pair.get("toCarrierEthernetServiceEndPoint", pair.get("toUni", ""))),
        )
        for pair in pairs
    )


def sls_objectives(sls: dict[str, Any]) -> list[SlsObjective]:
    """Every objective of a ``carrierEthernetServiceLevelSpecification``. The composite performance metric
    is read so that it is reported, but cannot be judged from the measurement intervals (metrics.py)."""
    found: list[SlsObjective] = []
    for entry in sls.get("slsCosNameEntry") or []:
        cos = CosParameters(
            str(entry.get("cosName", "")),
            int(entry.get("deltaT") or 1),
            float(entry.get("thresholdC") or 0.0),
            int(entry.get("consecutiveIntervalN") or 1),
        )
        for metric, (lists, objective_names, kind) in _SLS_METRICS.items():
            for attribute in lists:
                for item in entry.get(attribute) or []:
                    raw = next((item[name] for name in objective_names if name in item), None)
                    objective = duration_us(raw) if kind == "time" else raw
                    if objective is None:
                        continue
                    percentile = next((item[name] for name in _PERCENTILES if name in item), None)
                    # Group availability (§8.8.11) names sets of ordered pairs; S is their union.
                    sets = tuple(_pairs(one) for one in item.get("setOfOrderedPairs") or [])
                    found.append(
                        SlsObjective(
                            metric,
                            cos,
                            tuple(dict.fromkeys(p for one in sets for p in one)) if sets else _pairs(item),
                            float(objective),
                            float(percentile) if percentile is not None else None,
                            item.get("consecutiveNumberP"),
                            duration_us(item.get("timeDuration")),
                            sets,
                            item.get("minimumNumberOfSetsAvailableK"),
                        )
                    )
    return found
