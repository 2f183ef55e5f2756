"""The sim's MEF 35.1 measurement intervals: reproducible, right for an injected delay and loss, and with
the IFDV pairs straddling an interval's start reported apart, as SOF splits them."""

from __future__ import annotations

from typing import Any

import numpy as np

from lso.ecm import oam
from lso.ecm.oam import PROBES_PER_S, PathModel
from lso.sof.assurance import series

PROFILE: dict[str, Any] = {
    "cosName": "H",
    "intervalS": 10,
    "deltaTS": 1,
    "thresholdC": 0.1,
    "fdBinsUs": [0, 1_000, 2_000, 5_000, 10_000, 20_000, 25_001],
    "ifdvBinsUs": [0, 100, 1_000, 5_000],
    "ifdvDeltaTauUs": 1_000_000,
}
CLEAN = PathModel(("a", "b", "c"), 200.0, 0.0, 0.0)  # 1 ms of fibre + 45 µs in the elements


def test_intervals_are_reproducible_by_seed_and_differ_by_start() -> None:
    first = oam.intervals(CLEAN, "session:H", PROFILE, [0, 10])
    assert first == oam.intervals(CLEAN, "session:H", PROFILE, [0, 10])
    assert first[0]["fd_sum_us"] != first[1]["fd_sum_us"]  # its own jitter per interval
    assert first[0] != oam.intervals(CLEAN, "other:H", PROFILE, [0])[0]


def test_a_clean_path_delivers_every_probe_with_the_path_delay() -> None:
    (record,) = oam.intervals(CLEAN, "s", PROFILE, [600])
    frames = PROFILE["intervalS"] * PROBES_PER_S
    assert record["start"] == 600
    assert record["offered"] == record["delivered"] == frames
    assert sum(record["fd_bins"]) == frames
    assert record["fd_bins"][1] == frames  # 1045-1057 µs: all in [1 ms, 2 ms)
    assert 1045 <= record["fd_min_us"] <= record["fd_max_us"] <= 1057
    assert record["fd_min_us"] * frames <= record["fd_sum_us"] <= record["fd_max_us"] * frames
    # pairs 1 s apart inside the interval: (intervalS − 1) × probes per second of them
    assert sum(record["ifdv_bins"]) == (PROFILE["intervalS"] - 1) * PROBES_PER_S
    assert record["ifdv_max_us"] <= 12
    assert record["high_loss"] == [0] * 10


def test_an_injected_20_ms_delay_shifts_the_bins() -> None:
    impaired = PathModel(CLEAN.elements, CLEAN.distance_km, 20.0, 0.0)
    (clean,) = oam.intervals(CLEAN, "s", PROFILE, [0])
    (late,) = oam.intervals(impaired, "s", PROFILE, [0])
    frames = clean["offered"]
    # 21.045 ms plus up to 2 ms of jitter (impairments add 100 µs of jitter per ms): [20 ms, 25 ms]
    assert late["fd_bins"] == [0, 0, 0, 0, 0, frames, 0]
    assert late["fd_min_us"] >= clean["fd_min_us"] + 20_000
    assert late["fd_sum_us"] - clean["fd_sum_us"] >= 20_000 * frames
    assert late["ifdv_max_us"] > clean["ifdv_max_us"]


def test_a_loss_ratio_above_c_marks_every_delta_t_high_loss() -> None:
    lossy = PathModel(CLEAN.elements, CLEAN.distance_km, 0.0, 0.5)
    (record,) = oam.intervals(lossy, "s", PROFILE, [0])
    frames = record["offered"]
    assert 0.4 * frames < frames - record["delivered"] < 0.6 * frames
    assert record["high_loss"] == [1] * 10  # every Δt loses far more than C = 10 %
    assert sum(record["fd_bins"]) == record["delivered"]


def test_high_loss_follows_c_per_delta_t() -> None:
    """H(Δt) = 1 exactly when that Δt's own loss ratio exceeds C (recomputed from the same seeded draw)."""
    lossy = PathModel(CLEAN.elements, CLEAN.distance_km, 0.0, 0.1)
    for start in range(0, 200, 10):
        (record,) = oam.intervals(lossy, "s", {**PROFILE, "thresholdC": 0.1}, [start])
        assert len(record["high_loss"]) == 10
        assert set(record["high_loss"]) <= {0, 1}
    marked = [
        sum(oam.intervals(lossy, "s", {**PROFILE, "thresholdC": c}, [0])[0]["high_loss"])
        for c in (0.0, 0.1, 0.3)
    ]
    assert marked[0] == 10 and 0 < marked[1] < 10 and marked[2] == 0  # 100 probes: σ ≈ 3 %
    assert np.all(np.diff(marked) <= 0)
    down = PathModel(CLEAN.elements, CLEAN.distance_km, 0.0, 1.0)
    (record,) = oam.intervals(down, "s", PROFILE, [0])
    assert record["delivered"] == 0 and record["high_loss"] == [1] * 10 and sum(record["fd_bins"]) == 0


def test_pairs_straddling_an_interval_start_are_reported_apart() -> None:
    """Δτ = 1 s: the first second of frames of an interval pairs with the previous interval's last —
    reported as straddling pairs, the same whether or not the previous interval was read with it."""
    clean = oam.intervals(CLEAN, "s", PROFILE, [0, 10, 20])
    for record in clean:
        assert sum(record["ifdv_straddling_bins"]) == PROBES_PER_S  # one pair per frame of the Δτ
        assert sum(record["ifdv_bins"]) == (PROFILE["intervalS"] - 1) * PROBES_PER_S
        assert 0 < record["ifdv_straddling_max_us"] <= 12
    assert oam.intervals(CLEAN, "s", PROFILE, [20]) == clean[2:]
    # Δτ longer than the interval: every pair straddles, reaching back two intervals.
    long_tau = {**PROFILE, "intervalS": 1, "ifdvDeltaTauUs": 1_500_000}
    (record,) = oam.intervals(CLEAN, "s", long_tau, [5])
    assert (sum(record["ifdv_bins"]), sum(record["ifdv_straddling_bins"])) == (0, PROBES_PER_S)


def test_the_record_splits_pairs_as_sof_does() -> None:
    """ECM's record of an interval and the frames before it bins exactly the pairs that SOF's
    ``series.interval_delay_variations`` finds inside it and straddling its start (lost frames pair
    with nothing)."""
    generator = np.random.default_rng(7)
    gap = PROFILE["ifdvDeltaTauUs"] * PROBES_PER_S // 1_000_000
    frames = PROFILE["intervalS"] * PROBES_PER_S
    delays = generator.integers(1_000, 7_000, gap + frames)
    lost = generator.random(gap + frames) < 0.2
    record = oam.interval_record(
        PROFILE, 10, PROBES_PER_S, delays[gap:], lost[gap:], (delays[:gap], lost[:gap])
    )

    sent_us = (np.arange(gap + frames) + (10 * PROBES_PER_S - gap)) * (1_000_000 // PROBES_PER_S)
    inside, straddling = series.interval_delay_variations(
        sent_us[~lost], delays[~lost], PROFILE["ifdvDeltaTauUs"], 10_000_000
    )
    expected = series.summarize(
        series.MeasurementProfile(10, 1, 0.1, (0, 1), tuple(PROFILE["ifdvBinsUs"])),
        10,
        0,
        0,
        [],
        inside,
        [False] * 10,
        straddling,
    )
    assert 0 < len(straddling) < gap and len(inside) < frames - gap
    for name in ("ifdv_bins", "ifdv_max_us", "ifdv_straddling_bins", "ifdv_straddling_max_us"):
        assert np.array_equal(np.asarray(record[name]), expected[name][0]), name
    without = oam.interval_record(PROFILE, 10, PROBES_PER_S, delays[gap:], lost[gap:])
    assert without["ifdv_bins"] == record["ifdv_bins"] and sum(without["ifdv_straddling_bins"]) == 0
