"""IFDV frame pairs across measurement interval boundaries, worked out by hand (MEF 10.4 §8.8.5).

A pair belongs to the interval of its later frame; MEF 10.4 counts it over T when both of its frames are
qualified frames of T. So a pair straddling the start of an interval counts when the previous interval
is in T and qualified, and never when it straddles the start of T, a gap, or a maintenance interval.

Three 1-minute intervals (the profile of test_metrics: IFDV bins 0, 100, 200, 500, 1000 µs), each with one
pair inside it of |Δd| = 100 µs, and one pair straddling its start: 900 µs at 0 s (earlier frame before
T), 700 µs at 60 s, 300 µs at 120 s.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from lso.sof.assurance import metrics
from lso.sof.assurance.intervals import Window
from lso.sof.assurance.series import interval_delay_variations, summarize
from tests.sof.assurance.test_metrics import MS, PROFILE, pair, series, sls

STRADDLING_US = {0: 900, 60: 700, 120: 300}


def interval(start: int, h: str) -> np.ndarray:
    return summarize(PROFILE, start, 100, 100, [], [100], [c == "1" for c in h], [STRADDLING_US[start]])


def ifdv(percentile: float) -> dict[str, Any]:
    item = {
        "orderedPairList": [pair()],
        "timeDuration": {"timeDurationValue": 1, "timeDurationUnits": "SEC"},
        "oneWayIfdvPercentile": percentile,
        "oneWayIfdvObjective": {"timeDurationValue": 1, "timeDurationUnits": "MS"},
    }
    return {"oneWayInterFrameDelayVariationPmMetric": [item]}


def v(
    percentile: float,
    starts: tuple[int, ...],
    begin: int,
    end: int,
    h: str,
    maintenance: tuple[Window, ...] = (),
) -> tuple[float | None, float | None]:
    """v(P) over T = [begin, end) of the intervals at ``starts``, as (lower bound, value) in µs."""
    data = series(*(interval(start, h) for start in starts))
    result = metrics.assess([data], sls(**ifdv(percentile)), begin, end, maintenance).results[0]
    return result.pairs[0].lower, result.value


# "000000": every series takes the one-pass path; "100000": one high-loss Δt (n = 3, so still available)
# sends it through the Δt grid. Both must give the same answers.
PATHS = pytest.mark.parametrize("h", ["000000", "100000"])


@PATHS
def test_pairs_straddling_intervals_inside_t_count_and_the_one_straddling_t_does_not(h: str) -> None:
    # T = [0, 180): 100, 100, 100 inside, 700 and 300 straddling (900 straddles the start of T) → 5 pairs.
    # v(100) = 700 µs (the [500, 1000) bin clipped to the maximum 700).
    assert v(100, (0, 60, 120), 0, 180, h) == (500, 700)
    # v(80): 4 of 5 needed; ≤ 199 µs gives 3, ≤ 499 µs gives 4 → the [200, 500) bin.
    # (Without the straddling pairs: 3 pairs, 2.4 needed → [100, 200); with 900 too: 6 pairs, 4.8 needed
    # → [500, 1000).)
    assert v(80, (0, 60, 120), 0, 180, h) == (200, 499)


@PATHS
def test_a_pair_straddling_the_start_of_t_is_not_counted(h: str) -> None:
    # T = [60, 180): the 700 µs pair's earlier frame was sent before T → 100, 100, 300: v(100) = 300 µs.
    assert v(100, (0, 60, 120), 60, 180, h) == (200, 300)


@PATHS
def test_a_pair_straddling_a_gap_is_not_counted(h: str) -> None:
    # The interval at 60 s was not measured: 300 µs straddles into an interval that is not in the data, and
    # 900 µs the start of T → only the two 100 µs pairs: v(100) = 100 µs.
    assert v(100, (0, 120), 0, 180, h) == (100, 100)


def test_a_pair_straddling_a_maintenance_interval_is_not_counted() -> None:
    # Maintenance during the minute at 60 s: its frames are not qualified, so neither its own pairs (100,
    # 700) nor the 300 µs pair whose earlier frame it sent count → 100, 100: v(100) = 100 µs.
    assert v(100, (0, 60, 120), 0, 180, "000000", maintenance=((70, 80),)) == (100, 100)


def test_interval_delay_variations_split_pairs_at_the_interval_start() -> None:
    # The interval starts at 60 s; Δτ = 1 s. Frames at 58, 59, 60, 61 s with delays 10, 12, 11, 15 ms:
    # (58, 59) both in the previous interval → left out; (59, 60) straddles, |11 − 12| = 1 ms;
    # (60, 61) inside, |15 − 11| = 4 ms.
    sent = [58_000_000, 59_000_000, 60_000_000, 61_000_000]
    delays = [10 * MS, 12 * MS, 11 * MS, 15 * MS]
    inside, straddling = interval_delay_variations(sent, delays, 1_000_000, 60_000_000)
    assert (inside.tolist(), straddling.tolist()) == ([4 * MS], [1 * MS])
