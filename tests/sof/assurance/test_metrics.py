"""MEF 10.4 metrics on interval series whose right answers are worked out by hand (in the comments).

Unless a test says otherwise: 1-minute measurement intervals of six 10 s Δt, n = 3, C = 0.5, delay bins
whose lower bounds are every whole millisecond, so a sample of k ms sits on its bin's lower bound.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from lso.sof.assurance import intervals, metrics
from lso.sof.assurance.series import (
    DAY_S,
    IntervalSeries,
    MeasurementProfile,
    SeriesKey,
    delay_variations,
    summarize,
)

MS = 1_000
PROFILE = MeasurementProfile(60, 10, 0.5, tuple(range(0, 8 * MS, MS)), (0, 100, 200, 500, 1_000))
KEY = SeriesKey("svc", "A", "B", "H")
BACK = SeriesKey("svc", "B", "A", "H")


def interval(
    start: int,
    h: str = "000000",
    offered: int = 100,
    delivered: int = 100,
    delays_ms: tuple[int, ...] = (),
    ifdv_us: tuple[int, ...] = (),
    profile: MeasurementProfile = PROFILE,
) -> np.ndarray:
    return summarize(
        profile, start, offered, delivered, [d * MS for d in delays_ms], ifdv_us, [c == "1" for c in h]
    )


def series(
    *records: np.ndarray, key: SeriesKey = KEY, profile: MeasurementProfile = PROFILE
) -> IntervalSeries:
    return IntervalSeries(key, profile, np.concatenate(records))


def h_series(h: str, start: int = 0, key: SeriesKey = KEY) -> IntervalSeries:
    """Consecutive intervals from ``start`` with H given six Δt per space-separated group."""
    return series(*(interval(start + 60 * i, group) for i, group in enumerate(h.split())), key=key)


def pair(source: str = "A", sink: str = "B") -> dict[str, str]:
    return {"fromCarrierEthernetServiceEndPoint": source, "toCarrierEthernetServiceEndPoint": sink}


def sls(n: int = 3, c: float = 0.5, **metric_lists: list[dict[str, Any]]) -> dict[str, Any]:
    entry: dict[str, Any] = {"cosName": "H", "deltaT": 10, "thresholdC": c, "consecutiveIntervalN": n}
    return {"slsCosNameEntry": [entry | metric_lists]}


def ms(value: float) -> dict[str, Any]:
    return (
        {"timeDurationValue": value, "timeDurationUnits": "MS"}
        if value >= 1
        else {
            "timeDurationValue": int(value * MS),
            "timeDurationUnits": "US",
        }
    )


def only(assessment: metrics.Assessment) -> metrics.ObjectiveResult:
    assert len(assessment.results) == 1
    return assessment.results[0]


def fd(percentile: float, objective_ms: float, *pairs: dict[str, str]) -> dict[str, Any]:
    return {
        "oneWayFrameDelayPmMetric": [
            {
                "orderedPairList": list(pairs) or [pair()],
                "oneWayFdPercentile": percentile,
                "oneWayFdObjective": ms(objective_ms),
            }
        ]
    }


# Ten delays 1,1,2,2,3,3,4,4,5,5 ms split over two intervals.
DELAYS = series(interval(0, delays_ms=(1, 1, 2, 2, 3)), interval(60, delays_ms=(3, 4, 4, 5, 5)))


@pytest.mark.parametrize(
    ("percentile", "lower_ms", "upper_ms"),
    [
        # d(P) = min d with at least P % of the 10 delays ≤ d.
        (50, 3.0, 3.999),  # 5 delays needed: ≤2 ms gives 4, ≤3 ms gives 6 → 3 ms (bin [3, 4) ms)
        (40, 2.0, 2.999),  # exactly 4 needed: ≤2 ms gives 4 → 2 ms, not 3 (the "at least" edge)
        (100, 5.0, 5.0),  # all 10: 5 ms; the last bin is clipped to the maximum, so exact
        (0.1, 1.0, 1.999),  # 0.01 frames: the first delay, 1 ms (clipped below by the minimum)
    ],
)
def test_frame_delay_percentile_edges(percentile: float, lower_ms: float, upper_ms: float) -> None:
    result = only(metrics.assess([DELAYS], sls(**fd(percentile, 10)), 0, 120))
    assert result.pairs[0].lower == lower_ms * MS
    assert result.value == pytest.approx(upper_ms * MS)
    assert result.met is True


def test_objective_on_a_bin_bound_is_decided_exactly() -> None:
    # d(50) = 3 ms. With bins from for_objectives, "≤ 3 ms" is a bin prefix: met at 3 ms, missed at 2.999.
    exact = MeasurementProfile.for_objectives(60, 10, 0.5, fd_objectives_us=[3 * MS, 2_999])
    data = series(
        interval(0, delays_ms=(1, 1, 2, 2, 3), profile=exact),
        interval(60, delays_ms=(3, 4, 4, 5, 5), profile=exact),
        profile=exact,
    )
    assert only(metrics.assess([data], sls(**fd(50, 3)), 0, 120)).met is True
    missed = only(metrics.assess([data], sls(**fd(50, 2.999)), 0, 120))
    assert missed.met is False and missed.pairs[0].lower == 3 * MS


def test_mean_and_range() -> None:
    # mean = (1+1+2+2+3+3+4+4+5+5) / 10 = 3 ms; range at P=100 = d(100) − d_min = 5 − 1 = 4 ms.
    objectives = sls(
        oneWayMeanFrameDelayPmMetric=[{"orderedPairList": [pair()], "oneWayMfdObjective": ms(3)}],
        oneWayFrameDelayRangePmMetric=[
            {"orderedPairList": [pair()], "oneWayFdrPercentile": 100, "oneWayFdrObjective": ms(3)}
        ],
    )
    mean, spread = metrics.assess([DELAYS], objectives, 0, 120).results
    assert (mean.value, mean.met) == (3 * MS, True)
    assert (spread.value, spread.pairs[0].lower, spread.met) == (4 * MS, 4 * MS, False)


def test_maintenance_interval_frames_are_not_qualified() -> None:
    # Maintenance over the second minute: only 1,1,2,2,3 count → d(100) = 3 ms, mean = 9/5 = 1.8 ms.
    result = only(metrics.assess([DELAYS], sls(**fd(100, 10)), 0, 120, maintenance=[(70, 80)]))
    assert result.value == 3 * MS


def test_inter_frame_delay_variation_pairs() -> None:
    # Frames sent at 0, 1, 2, 3 s (and 5 s) with delays 10, 12, 11, 15 (and 9) ms. Δτ = 1 s pairs:
    # (0,1) |12−10| = 2, (1,2) |11−12| = 1, (2,3) |15−11| = 4 ms; 5 s has no partner 1 s away.
    sent = [0, 1_000_000, 2_000_000, 3_000_000, 5_000_000]
    delays = [10 * MS, 12 * MS, 11 * MS, 15 * MS, 9 * MS]
    assert sorted(delay_variations(sent, delays, 1_000_000)) == [1 * MS, 2 * MS, 4 * MS]
    # Δτ = 2 s: (0,2) |11−10| = 1, (1,3) |15−12| = 3, (3,5) |9−15| = 6 ms.
    assert sorted(delay_variations(sent, delays, 2_000_000)) == [1 * MS, 3 * MS, 6 * MS]


def test_inter_frame_delay_variation_percentile() -> None:
    # |Δd| samples 0, 100, 100, 500 µs. v(75): 3 of 4 needed; ≤ 99 µs gives 1, ≤ 199 µs gives 3 → the
    # [100, 200) µs bin, and 100 µs is the sample itself. v(100) = 500 µs (last bin clipped to max).
    data = series(interval(0, ifdv_us=(0, 100)), interval(60, ifdv_us=(100, 500)))
    item = {"orderedPairList": [pair()], "timeDuration": {"timeDurationValue": 1, "timeDurationUnits": "SEC"}}
    three_quarters = item | {"oneWayIfdvPercentile": 75, "oneWayIfdvObjective": ms(0.2)}
    everything = item | {"oneWayIfdvPercentile": 100, "oneWayIfdvObjective": ms(0.2)}
    low, high = metrics.assess(
        [data], sls(oneWayInterFrameDelayVariationPmMetric=[three_quarters, everything]), 0, 120
    ).results
    assert (low.pairs[0].lower, low.value, low.met) == (100, 199, True)
    assert (high.value, high.met) == (500, False)
    # Measured with Δτ = 1 s: an SLS asking for another Δτ cannot be judged from these bins.
    other = item | {"timeDuration": ms(100), "oneWayIfdvPercentile": 75, "oneWayIfdvObjective": ms(1)}
    result = only(metrics.assess([data], sls(oneWayInterFrameDelayVariationPmMetric=[other]), 0, 120))
    assert result.met is None and "Δτ" in (result.reason or "")


def flr(objective_percent: float) -> dict[str, Any]:
    return {
        "oneWayFrameLossRatioPmMetric": [
            {"orderedPairList": [pair()], "oneWayFlrObjective": objective_percent}
        ]
    }


def test_frame_loss_ratio() -> None:
    # (1000 − 990 + 500 − 500) / 1500 = 10 / 1500 = 0.667 % > 0.5 %.
    data = series(interval(0, offered=1000, delivered=990), interval(60, offered=500, delivered=500))
    result = only(metrics.assess([data], sls(**flr(0.5)), 0, 120))
    assert result.value == pytest.approx(100 * 10 / 1500)
    assert result.met is False


def test_frame_loss_ratio_with_zero_traffic_is_undefined() -> None:
    # I = 0: FLR = (I − E) / I is undefined; nothing to judge, and nothing missed.
    data = series(interval(0, offered=0, delivered=0))
    result = only(metrics.assess([data], sls(**flr(0.1)), 0, 60))
    assert (result.value, result.met) == (None, None)
    assert metrics.Assessment("svc", 0, 60, (result,)).met


def availability(objective: float = 99.0) -> dict[str, Any]:
    return {
        "oneWayAvailabilityPmMetric": [
            {"orderedPairList": [pair()], "oneWayAvailabilityObjective": objective}
        ]
    }


def loss_counts(p: int | None = None) -> dict[str, Any]:
    counts: dict[str, Any] = {
        "oneWayHighLossIntervalsPmMetric": [
            {"orderedPairList": [pair()], "oneWayHighLossIntervalsObjective": 0}
        ]
    }
    if p:
        counts["oneWayConsecutiveHighLossIntervalsPmMetric"] = [
            {"orderedPairList": [pair()], "consecutiveNumberP": p, "oneWayChliObjective": 1}
        ]
    return counts


def availability_of(h: str, n: int = 3, end: int | None = None, **kwargs: Any) -> tuple[float | None, ...]:
    """(availability %, HLI, CHLI…) over T = all the intervals of ``h`` (or [0, end))."""
    data = h_series(h)
    end = end if end is not None else 60 * len(h.split())
    results = metrics.assess([data], sls(n=n, **availability(), **loss_counts(2)), 0, end, **kwargs).results
    return tuple(result.value for result in results)


def test_run_of_n_minus_one_high_loss_stays_available() -> None:
    # H = 000000 011000 000000, n = 3: the run of 2 never triggers → all 18 Δt available; both high-loss
    # Δt are HLI; CHLI with p = 2 counts k = 8 (Δt 7 and 8 both high loss) → 1.
    assert availability_of("000000 011000 000000") == (100.0, 2, 1)


def test_run_of_exactly_n_is_unavailable_from_its_first_delta_t() -> None:
    # H = 000000 011100 000000: Δt 7, 8, 9 high loss → unavailable from Δt 7; Δt 10, 11, 12 good → available
    # again from Δt 10. Unavailable Δt: 7, 8, 9 → A = 15/18. Unavailable Δt are not HLI → HLI = CHLI = 0.
    assert availability_of("000000 011100 000000") == (pytest.approx(100 * 15 / 18), 0, 0)


def test_unavailability_ends_only_with_n_good_delta_t() -> None:
    # H = 111010 000000: Δt 0-2 high loss → unavailable from Δt 0 (A(Δt_0) = 0). Δt 3 good but Δt 4 high
    # loss: no run of 3 good yet; Δt 5, 6, 7 good → available from Δt 5. Unavailable 0-4 → A = 7/12.
    # Δt 4 is high loss while unavailable → not an HLI.
    assert availability_of("111010 000000") == (pytest.approx(100 * 7 / 12), 0, 0)


def test_run_crossing_an_interval_boundary() -> None:
    # H = 000011 100000: Δt 4, 5 end the first interval, Δt 6 starts the second → a run of 3 across the
    # boundary: unavailable from Δt 4 (in the first interval) to Δt 6 → A = 9/12.
    assert availability_of("000011 100000") == (pytest.approx(100 * 9 / 12), 0, 0)


def test_run_crossing_a_day_boundary() -> None:
    # The last minute of day 0 ends with 2 high-loss Δt, the first minute of day 1 starts with 1: a run of
    # 3 → unavailable Δt: 2 + 1 of the 12 → A = 9/12.
    start = DAY_S - 60
    data = series(interval(start, "000011"), interval(DAY_S, "100000"))
    result = only(metrics.assess([data], sls(**availability()), start, DAY_S + 60))
    assert result.value == pytest.approx(100 * 9 / 12)


def test_maintenance_delta_t_are_excluded() -> None:
    # H = 111000 000000 with maintenance over the first minute: Δt 0-2 are unavailable but in maintenance,
    # so W = Δt 6-11, all available → A = 6/6 = 100 %.
    assert availability_of("111000 000000", maintenance=[(0, 60)])[0] == 100.0
    # Without it: Δt 0-2 unavailable → 9/12.
    assert availability_of("111000 000000")[0] == pytest.approx(75.0)


def test_consecutive_high_loss_intervals() -> None:
    # n = 5, p = 2, H = 011011 100000: runs of 2 (Δt 1-2) and 3 (Δt 4-6), both shorter than n → available.
    # HLI = 5; CHLI counts k with Δt k−1 and k both high loss: k = 2, 5, 6 → 3.
    assert availability_of("011011 100000", n=5) == (100.0, 5, 3)


def test_availability_looks_ahead_past_the_end_of_t() -> None:
    # T = the first minute, H = 000011 | 100000 (the second minute is after T): the run of 3 starting at
    # Δt 4 makes Δt 4 and 5 unavailable → A over T = 4/6. Without the second minute measured, the run of 2
    # in T cannot trigger → 6/6.
    assert availability_of("000011 100000", end=60)[0] == pytest.approx(100 * 4 / 6)
    assert availability_of("000011", end=60)[0] == 100.0


def test_availability_states_directly() -> None:
    # n = 2 on one row: 1 1 0 1 0 0 1 → unavailable at 0 (run of 2); good run of 2 starts at 4 → available
    # from 4; the lone high loss at 6 changes nothing. A = 0 0 0 0 1 1 1.
    h = np.array([[1, 1, 0, 1, 0, 0, 1]], dtype=bool)
    assert intervals.availability_states(h, 2).astype(int).tolist() == [[0, 0, 0, 0, 1, 1, 1]]


def test_assessment_takes_the_worst_ordered_pair() -> None:
    # A→B delivers 990 of 1000 (1 %), B→A 1000 of 1000 (0 %): the FLR of S = {A→B, B→A} is the max, 1 %.
    forward = series(interval(0, offered=1000, delivered=990))
    backward = series(interval(0, offered=1000, delivered=1000), key=BACK)
    objectives = sls(
        oneWayFrameLossRatioPmMetric=[
            {"orderedPairList": [pair(), pair("B", "A")], "oneWayFlrObjective": 0.5}
        ]
    )
    result = only(metrics.assess([forward, backward], objectives, 0, 60))
    assert result.value == pytest.approx(1.0)
    assert [p.value for p in result.pairs] == [pytest.approx(1.0), 0.0]
    assert result.met is False
    assert not metrics.Assessment("svc", 0, 60, (result,)).met


def test_missing_pair_and_other_threshold_are_not_judged() -> None:
    data = h_series("000000")
    missing = only(metrics.assess([data], sls(**fd(50, 5, pair("C", "D"))), 0, 60))
    assert missing.met is None and "C to D" in (missing.reason or "")
    # The series was measured with C = 0.5; an SLS with C = 0.1 needs other H bits.
    other_c = only(metrics.assess([data], sls(c=0.1, **availability()), 0, 60))
    assert other_c.met is None


def test_service_schema_names_are_read_too() -> None:
    # MEF 101's carrierEthernetSls spells pairs fromUni/toUni and the FLR objective differently.
    data = series(interval(0, offered=1000, delivered=990))
    objectives = sls(
        oneWayFrameLossRatioPmMetric=[
            {"orderedPairs": [{"fromUni": "A", "toUni": "B"}], "oneWayFrameLossRatioObjective": 2}
        ]
    )
    result = only(metrics.assess([data], objectives, 0, 60))
    assert (result.value, result.met) == (pytest.approx(1.0), True)
    assert result.wire()["unit"] == "%"


def test_one_pass_and_general_paths_agree() -> None:
    # A clean series takes the one-pass path; measure() on its grid is the general path: same numbers.
    data = series(
        interval(0, offered=1000, delivered=990, delays_ms=(1, 2, 7), ifdv_us=(100, 600)),
        interval(120, offered=500, delivered=500, delays_ms=(3,), ifdv_us=(0,)),
    )
    fast = intervals.measure_series(data, 3, 0, 180, (), chli_p=[2])
    general = intervals.measure(intervals.on_grid(data, 3, 0, 180, ()), PROFILE, 3, [2])
    for name in ("frames_offered", "frames_delivered", "delay_sum_us", "delay_min_us", "delay_max_us"):
        assert getattr(fast, name).tolist() == getattr(general, name).tolist(), name
    for name in ("fd_bins", "ifdv_max_us", "ifdv_bins", "delta_t_counted", "delta_t_available"):
        assert getattr(fast, name).tolist() == getattr(general, name).tolist(), name
    assert fast.delta_t_counted.tolist() == [12]  # two measured minutes of six Δt; the missing one not
