"""The composite performance metric (MEF 10.4 §8.8.10) an SLS asks for is reported, never guessed: its
per-Δt indicator needs the frames delayed beyond a threshold and the frame pairs varying beyond another in
each Δt, which measurement intervals (bins per interval, H per Δt) do not carry."""

from __future__ import annotations

from lso.sof.assurance import metrics
from lso.sof.assurance.objectives import breaches
from tests.sof.assurance.test_metrics import h_series, ms, pair, sls


def test_a_composite_objective_is_reported_unjudged_with_the_reason() -> None:
    item = {
        "orderedPairList": [pair()],
        "compositePerformanceIndicatorThreshold": 0.1,
        "compositeFrameLoss": 1,
        "compositeFrameDelay": 1,
        "compositeFrameDelayVariation": 0,
        "oneWayFdThreshold": ms(5),
        "oneWayIfdvThreshold": ms(1),
        "cpmObjective": 99.9,
    }
    # Every Δt loses more than C, so the composite would be poor: it is still not judged, never met.
    assessment = metrics.assess([h_series("111111 111111")], sls(oneWayCompositePmMetric=[item]), 0, 120)
    (result,) = assessment.results
    assert (result.objective.metric, result.objective.objective, result.value, result.met) == (
        "oneWayComposite",
        99.9,
        None,
        None,
    )
    assert "§8.8.10" in (result.reason or "")
    assert result.wire()["unit"] == "%"
    assert assessment.met and breaches(assessment) == []
