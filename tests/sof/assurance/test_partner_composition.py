"""The end-to-end SLS of an off-net EPL from our segment's values and the partner's reports
(``lso.sof.assurance.partner``), with the right answers worked out by hand (docs/sls.md, "An off-net EPL")."""

from __future__ import annotations

from typing import Any

import pytest

from lso.sof.assurance.partner import ShareValues, combined, compose, latest_items, share_values


def item(
    offered: int, delivered: int, mean: float | None, low: float | None, high: float | None, **more: Any
) -> Any:
    """One partner report result (``urn:lso:performance:carrier-ethernet-frame-performance``)."""
    return {
        "fromEndPoint": "pe-par-1/enni-1",
        "toEndPoint": "pe-lyo-1/uni-1",
        "cosName": "H",
        "measurementIntervals": 1,
        "framesOffered": offered,
        "framesDelivered": delivered,
        "oneWayMeanFrameDelayMs": mean,
        "oneWayMinimumFrameDelayMs": low,
        "oneWayMaximumFrameDelayMs": high,
        "oneWayMaximumInterFrameDelayVariationMs": more.get("ifdv", 0.0),
        "availabilityPercent": more.get("availability", 100.0),
        "highLossIntervals": more.get("hli", 0),
    }


# Two granularity intervals of the partner: 1000 frames each, 10 lost in the first.
PARTNER = share_values(
    [
        item(1000, 990, 5.0, 4.0, 8.0, ifdv=1.0, availability=100.0),
        item(1000, 1000, 7.0, 4.5, 9.0, ifdv=2.0, availability=98.0, hli=1),
    ]
)


def test_the_partner_intervals_of_a_window_make_one_share() -> None:
    assert PARTNER is not None
    assert (PARTNER.offered, PARTNER.delivered) == (2000, 1990)
    assert PARTNER.frame_loss_ratio == pytest.approx(0.005)
    assert PARTNER.mean_delay_ms == pytest.approx((5.0 * 990 + 7.0 * 1000) / 1990)  # weighted by frames
    assert (PARTNER.min_delay_ms, PARTNER.max_delay_ms, PARTNER.max_ifdv_ms) == (4.0, 9.0, 2.0)
    assert PARTNER.availability_percent == pytest.approx(99.0)
    assert PARTNER.high_loss_intervals == 1
    assert share_values([]) is None


def test_each_metric_of_the_concatenation() -> None:
    assert PARTNER is not None
    assert combined("oneWayMeanFrameDelay", 4.0, PARTNER) == pytest.approx(4.0 + 11950 / 1990)
    assert combined("oneWayFrameDelay", 3.0, PARTNER) == pytest.approx(12.0)  # + the partner's maximum
    assert combined("oneWayFrameDelayRange", 1.0, PARTNER) == pytest.approx(6.0)  # + (9 - 4)
    assert combined("oneWayInterFrameDelayVariation", 0.5, PARTNER) == pytest.approx(2.5)
    # delivered end to end = delivered by both: 1 - 0.995 × 0.995
    assert combined("oneWayFrameLossRatio", 0.5, PARTNER) == pytest.approx(0.9975)
    # an unavailable Δt on either side is unavailable end to end; at worst they never coincide
    assert combined("oneWayAvailability", 99.5, PARTNER) == pytest.approx(98.5)
    assert combined("oneWayHighLossIntervals", 2.0, PARTNER) == 3.0
    assert combined("oneWayConsecutiveHighLossIntervals", 0.0, PARTNER) is None
    unmeasured = ShareValues(0, 0, None, None, None, 0.0, None, 0)
    assert combined("oneWayFrameLossRatio", 0.5, unmeasured) is None
    assert combined("oneWayMeanFrameDelay", 0.5, unmeasured) is None


def result(metric: str, objective: float, unit: str, *pairs: tuple[str, str, float | None]) -> Any:
    return {
        "metric": metric,
        "cosName": "H",
        "objective": objective,
        "unit": unit,
        "orderedPairs": [{"from": a, "to": z, "value": v} for a, z, v in pairs],
    }


def test_only_what_the_concatenation_misses_is_a_breach_of_the_partners_share() -> None:
    assert PARTNER is not None
    ours = [
        result("oneWayMeanFrameDelay", 10.0, "ms", ("A", "Z", 4.0), ("Z", "A", 4.0)),
        result("oneWayFrameDelay", 15.0, "ms", ("A", "Z", 3.0)),
        result("oneWayFrameLossRatio", 1.0, "%", ("A", "Z", 0.5)),
        result("oneWayAvailability", 99.0, "%", ("A", "Z", 99.5), ("A", "B", 90.0)),
        result("oneWayFrameLossRatio", 1.0, "%", ("A", "Z", None)),
    ]
    # Z is our ENNI end: A→Z continues in the partner from its ENNI (the only direction it reported).
    found = compose(ours, {("H", True): PARTNER}, "Z")
    assert [(b["metric"], b["aEnd"], b["zEnd"]) for b in found] == [
        ("oneWayMeanFrameDelay", "A", "Z"),  # 4 + 6.005 > 10
        ("oneWayAvailability", "A", "Z"),  # 99.5 + 99 - 100 < 99; A→B does not cross the ENNI
    ]
    assert found[0]["measured"] == pytest.approx(10.005025, abs=1e-6)
    assert found[0]["ourSegment"] == 4.0 and found[0]["segment"] == "partner"
    # The other direction starts in the partner and reaches our segment at the ENNI (Z→A).
    backwards = compose(ours, {("H", False): PARTNER}, "Z")
    assert [(b["metric"], b["aEnd"], b["zEnd"]) for b in backwards] == [("oneWayMeanFrameDelay", "Z", "A")]
    assert compose(ours, {}, "Z") == []


def report(*ends: tuple[str, Any]) -> Any:
    """A partner report: one content item per (measurementEndDate, result) given."""
    return {
        "reportContent": [
            {
                "reportContentItem": [
                    {"measurementTime": {"measurementEndDate": end}, "measurementData": [data]}
                    for end, data in ends
                ]
            }
        ]
    }


def test_the_partners_latest_span_stands_for_the_window_up_to_a_bounded_lag() -> None:
    t = 1_800_000_000  # 2027-01-15T08:00:00Z
    reports = [
        report(("2027-01-15T08:00:01Z", "a"), ("2027-01-15T08:00:02Z", "b")),
        report(("2027-01-15T08:00:03Z", "c"), ("2027-01-15T08:00:04Z", "d")),
    ]
    assert latest_items(reports, 3, t - 10, t + 10) == ["b", "c", "d"]  # ending in (4 - 3, 4]
    assert latest_items(reports, 2, t - 10, t + 3) == ["b", "c"]  # nothing after ``newest``
    assert latest_items(reports, 3, t + 5, t + 10) == []  # its latest is older than allowed
    assert latest_items([], 3, t - 10, t + 10) == []
