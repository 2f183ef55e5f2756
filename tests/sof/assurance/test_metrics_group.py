"""MEF 10.4 §8.8.11 group availability, worked out by hand from the definition.

Sets S1 = {⟨A,B⟩, ⟨A,C⟩} and S2 = {⟨A,D⟩}; T = two 1-minute intervals of six 10 s Δt (n = 3, C = 0.5):

    H(A→B) 111000 000000   A(A→B) 000111 111111   (three high-loss Δt: unavailable from Δt0 to Δt2)
    H(A→C) 000000 000000   A(A→C) 111111 111111
    H(A→D) 000000 111111   A(A→D) 111111 000000   (unavailable from Δt6 on)

    S1 (every pair of it available) 000111 111111, S2 111111 000000
    K = 1 (at least one set): 111111 111111 → 12/12 = 100 %
    K = 2 (both sets):        000111 000000 →  3/12 =  25 %

(Counting a set available when any of its pairs is would give 50 % for K = 2, and so would the worst
pair's availability.)
"""

from __future__ import annotations

from typing import Any

import pytest

from lso.sof.assurance import metrics
from lso.sof.assurance.objectives import breaches
from lso.sof.assurance.series import SeriesKey
from tests.sof.assurance.test_metrics import h_series, pair, sls
from tests.sof.assurance.test_metrics import series as join

H = {"B": "111000 000000", "C": "000000 000000", "D": "000000 111111"}


def measured(h: dict[str, str] = H) -> list[Any]:
    return [h_series(groups, key=SeriesKey("svc", "A", sink, "H")) for sink, groups in h.items()]


def group(k: int, objective: float = 50) -> dict[str, Any]:
    item = {
        "setOfOrderedPairs": [
            {"orderedPairList": [pair("A", "B"), pair("A", "C")]},
            {"orderedPairList": [pair("A", "D")]},
        ],
        "minimumNumberOfSetsAvailableK": k,
        "oneWayGroupAvailabilityObjective": objective,
    }
    return sls(oneWayGroupAvailabilityPmMetric=[item])


@pytest.mark.parametrize(("k", "percent", "met"), [(1, 100.0, True), (2, 25.0, False)])
def test_group_availability_counts_the_delta_t_in_which_k_sets_are_available(
    k: int, percent: float, met: bool
) -> None:
    result = metrics.assess(measured(), group(k), 0, 120).results[0]
    assert (result.value, result.met) == (percent, met)
    # Each pair's own availability over the same Δt: 9/12, 12/12, 6/12.
    assert [(p.sink, p.value) for p in result.pairs] == [("B", 75.0), ("C", 100.0), ("D", 50.0)]


def test_only_delta_t_every_pair_measured_and_not_in_maintenance_count() -> None:
    # A→C's second minute was not measured: only Δt0–5 count, K = 2 → 000111 → 3/6 = 50 %.
    partial = measured()
    partial[1] = join(partial[1].records[:1], key=partial[1].key)
    assert metrics.assess(partial, group(2), 0, 120).results[0].value == 50.0
    # Maintenance over Δt0–2: Δt3–11 count, the group is available in Δt3–5 → 3/9.
    result = metrics.assess(measured(), group(2), 0, 120, maintenance=[(0, 30)]).results[0]
    assert result.value == pytest.approx(100 / 3)


def test_a_pair_without_measurements_leaves_the_group_unjudged() -> None:
    result = metrics.assess(measured()[:2], group(1), 0, 120).results[0]
    assert (result.value, result.met) == (None, None)
    assert "A to D" in (result.reason or "")


def test_mef_101_spelling_and_the_breach_it_reports() -> None:
    mef_101 = {
        "cosName": "H",
        "deltaT": 10,
        "thresholdC": 0.5,
        "consecutiveIntervalN": 3,
        "oneWayGroupAvailabilityPmMetric": [
            {
                "setOfOrderedPairs": [
                    {"orderedPairsList": [{"fromUni": "A", "toUni": "B"}, {"fromUni": "A", "toUni": "C"}]},
                    {"orderedPairsList": [{"fromUni": "A", "toUni": "D"}]},
                ],
                "minimumNumberOfSetsAvailableK": 2,
                "oneWayGroupAvailabilityObjective": 30,
            }
        ],
    }
    assessment = metrics.assess(measured(), {"slsCosNameEntry": [mef_101]}, 0, 120)
    assert (assessment.results[0].value, assessment.met) == (25.0, False)
    assert breaches(assessment) == [
        {
            "metric": "oneWayGroupAvailability",
            "cosName": "H",
            "orderedPairSets": [[["A", "B"], ["A", "C"]], [["A", "D"]]],
            "minimumNumberOfSetsAvailableK": 2,
            "measured": 25.0,
            "objective": 30.0,
            "unit": "%",
        }
    ]
