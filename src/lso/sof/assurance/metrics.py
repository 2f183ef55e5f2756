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

- §8.8.11 group availability with sets S_1 … S_m and K: a set is available in Δt_k when every ordered
  pair of it is; the group when at least K sets are. The metric is the ratio of the Δt of T in which the
  group is available to the Δt of T that count — those in which every pair of the group was measured and
  that do not intersect a maintenance interval.

The performance of a set S of ordered pairs is the worst pair: the maximum for delay, range, IFDV, FLR,
HLI and CHLI, the minimum for availability. ``intervals.py`` reduces the interval series to
:class:`PairMetrics` (one row per series); the functions here are vectorised over those rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lso.sof.assurance.intervals import PairMetrics, Window, measure_stack, series_delta_t_states
from lso.sof.assurance.series import IntervalSeries, MeasurementProfile
from lso.sof.assurance.sls_spec import AT_LEAST, SlsObjective, sls_objectives


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
        unit = "%" if o.metric in (*AT_LEAST, "oneWayFrameLossRatio") else "ms"
        if o.metric in ("oneWayHighLossIntervals", "oneWayConsecutiveHighLossIntervals"):
            unit = "count"
        scale = 1e-3 if unit == "ms" else 1.0
        group = (
            {
                "orderedPairSets": [[list(pair) for pair in one] for one in o.sets],
                "minimumNumberOfSetsAvailableK": o.k,
            }
            if o.sets
            else {}
        )
        return group | {
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
    """Assess a service's series (as :func:`measurement_store.read_service` returns them, read up to
    ``end`` plus the n − 1 Δt of look-ahead when wanted) against every objective of its SLS over
    T = [start, end)."""
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
            if o.sets:
                judged.append(group_availability(o, service, start, end, windows))
                continue
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


COMPOSITE_UNJUDGED = (
    "composite performance (MEF 10.4 §8.8.10) needs, per Δt, the frames delayed beyond its delay threshold"
    " and the frame pairs beyond its IFDV threshold; the measurement intervals do not carry them"
)


def objective_values(o: SlsObjective, m: PairMetrics) -> tuple[np.ndarray, np.ndarray | None, str | None]:
    """Per row of ``m``: the value of objective ``o``'s metric (NaN when it cannot be judged), its lower
    bound when bins bound it, and why a NaN row cannot be judged."""
    profile = m.profile
    nothing = np.full(m.frames_offered.shape, np.nan)
    if o.metric == "oneWayComposite":
        return nothing, None, COMPOSITE_UNJUDGED
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


def group_availability(
    o: SlsObjective, service: Sequence[IntervalSeries], start: int, end: int, windows: tuple[Window, ...]
) -> ObjectiveResult:
    """§8.8.11 group availability of one service over T (see the module docstring); each ordered pair's
    own availability over the same Δt is given with it."""
    found = {(one.key.source, one.key.sink): one for one in service if one.key.cos_name == o.cos.cos_name}
    missing = [f"no measurements from {a} to {z}" for a, z in o.pairs if (a, z) not in found]
    measured = [found[pair] for pair in o.pairs if pair in found]
    if any(
        (m.profile.delta_t_s, m.profile.threshold_c) != (o.cos.delta_t_s, o.cos.threshold_c) for m in measured
    ):
        missing.append("measured with another Δt or C than the SLS states")
    states = {
        pair: series_delta_t_states(found[pair], o.cos.n, start, end, windows)
        for pair in o.pairs
        if pair in found
    }
    if missing or len({len(a) for _, a in states.values()}) > 1:
        reason = "; ".join(missing) or "pairs measured over different Δt grids"
        return ObjectiveResult(o, None, None, tuple(PairValue(a, z, None) for a, z in o.pairs), reason)
    counts = np.logical_and.reduce([c for c, _ in states.values()])
    sets_up = [np.logical_and.reduce([states[pair][1] for pair in one]) for one in o.sets]
    group_up = np.sum(sets_up, axis=0) >= (o.k or 1)
    pairs = tuple(PairValue(a, z, _percent(states[(a, z)][1], counts)) for a, z in o.pairs)
    value = _percent(group_up, counts)
    met = None if value is None else value >= o.objective
    return ObjectiveResult(o, value, met, pairs, None if value is not None else "no Δt of T counts")


def _percent(up: np.ndarray, counts: np.ndarray) -> float | None:
    """The percentage of the counted Δt in which ``up``; None when none counts."""
    total = int(counts.sum())
    return 100.0 * int((up & counts).sum()) / total if total else None


def _judge(o: SlsObjective, pairs: tuple[PairValue, ...], reasons: list[str]) -> ObjectiveResult:
    values = [pair.value for pair in pairs if pair.value is not None]
    reason = "; ".join(dict.fromkeys(reasons)) or None
    if not values:
        return ObjectiveResult(o, None, None, pairs, reason)
    if o.metric in AT_LEAST:
        worst = min(values)
        return ObjectiveResult(o, worst, worst >= o.objective, pairs, reason)
    worst = max(values)
    return ObjectiveResult(o, worst, worst <= o.objective, pairs, reason)
