"""MEF 10.4 one-way performance metrics over a period T, and their assessment against an SLS.

The definitions (MEF 10.4 §8.8; the same in MEF 26.2 §12.13 for OVCs), for one ordered pair ⟨i, j⟩ and one
CoS over T:

- §8.8.2 one-way frame delay d(P): the smallest d such that at least P % of the qualified frames have a
  delay ≤ d. From measurement bins it is known to lie in one bin, clipped to [min, max] of the samples.
- §8.8.3 mean frame delay: the arithmetic mean of the delays (exact: sum / count).
- §8.8.4 frame delay range: d(P) − d_min.
- §8.8.5 inter-frame delay variation v(P): the P-percentile of |d_a − d_b| over pairs of qualified frames
  whose ingress times are Δτ apart.
- §8.8.6 frame loss ratio: (I − E) / I over the qualified frames; undefined when I = 0.
- §8.8.7 availability: with Δt, C and n, H(Δt_k) = 1 when flr(Δt_k) > C. While available, unavailability
  starts at the first Δt_k of n consecutive high-loss Δt; while unavailable, availability starts again at
  the first Δt_k of n consecutive non-high-loss Δt. A = available Δt / Δt of T not in a maintenance interval.
- §8.8.8 high loss intervals (HLI): available, non-maintenance Δt with H = 1.
- §8.8.9 consecutive high loss intervals (CHLI) with p: available, non-maintenance Δt_k such that
  Δt_{k−p+1} … Δt_k are all such high-loss Δt (a run of r ≥ p of them counts r − p + 1).

The performance of a set S of ordered pairs is the worst pair: the maximum for delay, range, IFDV, FLR,
HLI and CHLI, the minimum for availability. ``intervals.py`` reduces the interval series to
:class:`PairMetrics` (one row per series); the functions here are vectorised over those rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lso.sof.assurance.intervals import PairMetrics, Window, measure_stack
from lso.sof.assurance.series import IntervalSeries, MeasurementProfile


def percentile_bounds(
    bins: np.ndarray, lower_bounds: Sequence[int], percentile: float, low: np.ndarray, high: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The bounds [lo, hi] (µs) of the P-percentile of the binned samples of each row (§8.8.2): the bin
    where the cumulative count first reaches P % of all samples, clipped to the samples' [low, high].
    Rows without samples give (-1, -1)."""
    total = bins.sum(axis=1)
    cumulative = np.cumsum(bins, axis=1)
    reached = cumulative * 100.0 >= percentile * total[:, None]
    index = np.argmax(reached, axis=1)
    edges = np.asarray(lower_bounds, dtype=np.int64)
    upper_edges = np.append(edges[1:] - 1, np.iinfo(np.int64).max)
    lo = np.maximum(edges[index], low.astype(np.int64))
    hi = np.minimum(upper_edges[index], high.astype(np.int64))
    empty_rows = total == 0
    return np.where(empty_rows, -1, lo), np.where(empty_rows, -1, hi)


def frame_delay(m: PairMetrics, percentile: float) -> tuple[np.ndarray, np.ndarray]:
    """§8.8.2 one-way frame delay d(P), as [lo, hi] µs per row."""
    return percentile_bounds(m.fd_bins, m.profile.fd_bins_us, percentile, m.delay_min_us, m.delay_max_us)


def mean_frame_delay(m: PairMetrics) -> np.ndarray:
    """§8.8.3 mean frame delay in µs per row (NaN without samples)."""
    count = m.fd_bins.sum(axis=1)
    return np.divide(m.delay_sum_us, count, out=np.full(count.shape, np.nan), where=count > 0)


def frame_delay_range(m: PairMetrics, percentile: float) -> tuple[np.ndarray, np.ndarray]:
    """§8.8.4 frame delay range d(P) − d_min, as [lo, hi] µs per row (-1 without samples)."""
    lo, hi = frame_delay(m, percentile)
    minimum = m.delay_min_us.astype(np.int64)
    return np.where(lo < 0, -1, lo - minimum), np.where(hi < 0, -1, hi - minimum)


def inter_frame_delay_variation(m: PairMetrics, percentile: float) -> tuple[np.ndarray, np.ndarray]:
    """§8.8.5 inter-frame delay variation v(P) for the profile's Δτ, as [lo, hi] µs per row."""
    zero = np.zeros(m.ifdv_max_us.shape, dtype=np.int64)
    return percentile_bounds(m.ifdv_bins, m.profile.ifdv_bins_us, percentile, zero, m.ifdv_max_us)


def frame_loss_ratio(m: PairMetrics) -> np.ndarray:
    """§8.8.6 frame loss ratio (a fraction) per row; NaN when no frame was offered."""
    lost = np.maximum(m.frames_offered - m.frames_delivered, 0)
    offered = m.frames_offered
    return np.divide(lost, offered, out=np.full(offered.shape, np.nan), where=offered > 0)


def availability(m: PairMetrics) -> np.ndarray:
    """§8.8.7 availability (a fraction) per row; NaN when every Δt of T was in maintenance or missing."""
    counted = m.delta_t_counted
    return np.divide(m.delta_t_available, counted, out=np.full(counted.shape, np.nan), where=counted > 0)


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
}
_PERCENTILES = ("oneWayFdPercentile", "oneWayFdrPercentile", "oneWayIfdvPercentile")


def _pairs(item: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    pairs = item.get("orderedPairList") or item.get("orderedPairs") or []
    return tuple(
        (
            str(pair.get("fromCarrierEthernetServiceEndPoint", pair.get("fromUni", ""))),
            str(pair.get("toCarrierEthernetServiceEndPoint", pair.get("toUni", ""))),
        )
        for pair in pairs
    )


def sls_objectives(sls: dict[str, Any]) -> list[SlsObjective]:
    """Every objective of a ``carrierEthernetServiceLevelSpecification`` this module can assess (all but
    the composite and group availability metrics)."""
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
                    found.append(
                        SlsObjective(
                            metric,
                            cos,
                            _pairs(item),
                            float(objective),
                            float(percentile) if percentile is not None else None,
                            item.get("consecutiveNumberP"),
                            duration_us(item.get("timeDuration")),
                        )
                    )
    return found


@dataclass(frozen=True)
class PairValue:
    """The value of one ordered pair; ``lower`` is set when bins bound the value to [lower, value]."""

    source: str
    sink: str
    value: float | None
    lower: float | None = None


@dataclass(frozen=True)
class ObjectiveResult:
    """One objective compared with the performance of its set S (the worst pair). ``met`` is None when
    there is nothing to judge (no qualified frames, no series, or series measured with other Δt/C/Δτ)."""

    objective: SlsObjective
    value: float | None
    met: bool | None
    pairs: tuple[PairValue, ...]
    reason: str | None = None

    def wire(self) -> dict[str, Any]:
        o = self.objective
        unit = {"oneWayFrameLossRatio": "%", "oneWayAvailability": "%"}.get(o.metric, "ms")
        if o.metric in ("oneWayHighLossIntervals", "oneWayConsecutiveHighLossIntervals"):
            unit = "count"
        scale = 1e-3 if unit == "ms" else 1.0
        return {
            "metric": o.metric,
            "cosName": o.cos.cos_name,
            "percentile": o.percentile,
            "consecutiveNumberP": o.p,
            "objective": o.objective * scale,
            "value": None if self.value is None else self.value * scale,
            "unit": unit,
            "met": self.met,
            "reason": self.reason,
            "orderedPairs": [
                {
                    "from": pair.source,
                    "to": pair.sink,
                    "value": None if pair.value is None else pair.value * scale,
                    "lowerBound": None if pair.lower is None else pair.lower * scale,
                }
                for pair in self.pairs
            ],
        }


@dataclass(frozen=True)
class Assessment:
    """Every objective of an SLS over [start, end); ``met`` when none is known to be missed."""

    service_id: str
    start: int
    end: int
    results: tuple[ObjectiveResult, ...]

    @property
    def met(self) -> bool:
        return all(result.met is not False for result in self.results)


def assess(
    series: Sequence[IntervalSeries],
    sls: dict[str, Any],
    start: int,
    end: int,
    maintenance: Iterable[Window] = (),
) -> Assessment:
    """Assess a service's series (as :func:`series.read_service` returns them, read up to ``end`` plus
    the n − 1 Δt of look-ahead when wanted) against every objective of its SLS over T = [start, end)."""
    return assess_many([series], sls, start, end, maintenance)[0]


def assess_many(
    services: Sequence[Sequence[IntervalSeries]],
    sls: dict[str, Any],
    start: int,
    end: int,
    maintenance: Iterable[Window] = (),
) -> list[Assessment]:
    """:func:`assess` for many services of the same SLS at once: the series of every service that share
    a CoS and a profile are measured as one stack, so the work is a few numpy passes, not a loop."""
    objectives = sls_objectives(sls)
    windows = tuple(maintenance)
    stacks: list[PairMetrics] = []
    rows: dict[tuple[str, str, str, str], tuple[int, int]] = {}
    for cos in {o.cos for o in objectives}:
        chli_p = {o.p for o in objectives if o.cos == cos and o.p}
        groups: dict[MeasurementProfile, list[IntervalSeries]] = {}
        for one in (one for service in services for one in service if one.key.cos_name == cos.cos_name):
            groups.setdefault(one.profile, []).append(one)
        for profile, members in groups.items():
            rows.update(
                {
                    (m.key.service_id, m.key.source, m.key.sink, cos.cos_name): (len(stacks), r)
                    for r, m in enumerate(members)
                }
            )
            stacks.append(measure_stack(members, profile, cos.n, start, end, windows, chli_p))
    values: dict[tuple[int, int], tuple[np.ndarray, np.ndarray | None, str | None]] = {}
    results = []
    for service in services:
        service_id = service[0].key.service_id if service else ""
        judged = []
        for index, o in enumerate(objectives):
            pairs: list[PairValue] = []
            reasons: list[str] = []
            for source, sink in o.pairs:
                found = rows.get((service_id, source, sink, o.cos.cos_name))
                if found is None:
                    pairs.append(PairValue(source, sink, None))
                    reasons.append(f"no measurements from {source} to {sink}")
                    continue
                stack, row = found
                if (index, stack) not in values:
                    values[(index, stack)] = objective_values(o, stacks[stack])
                value, lower, reason = values[(index, stack)]
                known = not np.isnan(value[row])
                pairs.append(
                    PairValue(
                        source,
                        sink,
                        float(value[row]) if known else None,
                        float(lower[row]) if known and lower is not None else None,
                    )
                )
                if not known:
                    reasons.append(reason or "no qualified frames or Δt")
            judged.append(_judge(o, tuple(pairs), reasons))
        results.append(Assessment(service_id, start, end, tuple(judged)))
    return results


def objective_values(o: SlsObjective, m: PairMetrics) -> tuple[np.ndarray, np.ndarray | None, str | None]:
    """Per row of ``m``: the value of objective ``o``'s metric (NaN when it cannot be judged), its lower
    bound when bins bound it, and why a NaN row cannot be judged."""
    profile = m.profile
    nothing = np.full(m.frames_offered.shape, np.nan)
    if o.metric in (
        "oneWayAvailability",
        "oneWayHighLossIntervals",
        "oneWayConsecutiveHighLossIntervals",
    ) and (
        profile.delta_t_s,
        profile.threshold_c,
    ) != (o.cos.delta_t_s, o.cos.threshold_c):
        return nothing, None, "measured with another Δt or C than the SLS states"
    if o.metric == "oneWayInterFrameDelayVariation" and o.delta_tau_us not in (
        None,
        profile.ifdv_delta_tau_us,
    ):
        return nothing, None, "measured with another Δτ than the SLS states"
    percentile = o.percentile if o.percentile is not None else 100.0
    bounded = {
        "oneWayFrameDelay": frame_delay,
        "oneWayFrameDelayRange": frame_delay_range,
        "oneWayInterFrameDelayVariation": inter_frame_delay_variation,
    }.get(o.metric)
    if bounded is not None:
        lo, hi = bounded(m, percentile)
        return np.where(hi < 0, np.nan, hi), lo.astype(float), "no qualified frames"
    if o.metric == "oneWayHighLossIntervals":
        return m.high_loss_intervals.astype(float), None, None
    if o.metric == "oneWayConsecutiveHighLossIntervals":
        return m.consecutive_high_loss[o.p or 1].astype(float), None, None
    ratio = {
        "oneWayMeanFrameDelay": mean_frame_delay,
        "oneWayFrameLossRatio": lambda m: frame_loss_ratio(m) * 100,
        "oneWayAvailability": lambda m: availability(m) * 100,
    }[o.metric](m)
    return ratio, None, "no qualified frames or Δt"


def _judge(o: SlsObjective, pairs: tuple[PairValue, ...], reasons: list[str]) -> ObjectiveResult:
    values = [pair.value for pair in pairs if pair.value is not None]
    reason = "; ".join(dict.fromkeys(reasons)) or None
    if not values:
        return ObjectiveResult(o, None, None, pairs, reason)
    if o.metric == "oneWayAvailability":
        worst = min(values)
        return ObjectiveResult(o, worst, worst >= o.objective, pairs, reason)
    worst = max(values)
    return ObjectiveResult(o, worst, worst <= o.objective, pairs, reason)
