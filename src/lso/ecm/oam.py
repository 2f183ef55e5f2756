"""The simulated network's measurements: OAM frame delay/variation/loss, MEF 35.1 measurement intervals
and Y.1564 service activation tests.

Delay comes from the physical path — about 5 µs per km of fibre plus a processing delay per element —
plus injected impairments; delay variation from a per-element jitter drawn from a generator seeded by
the service, so a measurement is reproducible. A test is computed from the model (frames marked by the
real bandwidth profile of the A-end UNI), never waited for in real time.

:func:`intervals` synthesises the completed measurement intervals of a PM session from the same model:
probe frames at ``PROBES_PER_S`` per second, each delayed by the path delay plus seeded jitter and lost
with the path's loss ratio, reduced to the interval record SOF stores (``sof/assurance/series.py``'s
fields, as JSON): offered/delivered frames, delay bins + sum/min/max, IFDV bins + max for frame pairs Δτ
apart, and H(Δt) per Δt. The generator is seeded by the session, CoS and interval start, so the same
interval of the same network reads the same.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from lso.ecm.bandwidth import BandwidthProfile, constant_rate_colours
from lso.ecm.drivers import PROBE_PERIOD_US, Acceptance, Document

PROPAGATION_US_PER_KM = 5.0
PROCESSING_US_PER_ELEMENT = 15.0
JITTER_US_PER_ELEMENT = 4.0
PROBES = 1000
TEST_FRAME_BYTES = 1000
STEP_FRAMES = 2000
_MAX_WARM_UP_FRAMES = 50_000
# An information rate within this fraction of its target passes: one frame in STEP_FRAMES is 0.05 %.
_RATE_TOLERANCE = 0.01


@dataclass(frozen=True)
class PathModel:
    """The forwarding path of a service between two UNIs, as the elements' configuration traces it."""

    elements: tuple[str, ...]
    distance_km: float
    extra_delay_ms: float
    loss_ratio: float

    @property
    def base_delay_us(self) -> float:
        return (
            self.distance_km * PROPAGATION_US_PER_KM
            + len(self.elements) * PROCESSING_US_PER_ELEMENT
            + self.extra_delay_ms * 1000
        )


@dataclass(frozen=True)
class Measurement:
    frame_delay_ms: float
    frame_delay_variation_ms: float
    frame_loss_ratio: float

    def wire(self) -> Document:
        return {
            "frameDelayMs": round(self.frame_delay_ms, 4),
            "frameDelayVariationMs": round(self.frame_delay_variation_ms, 4),
            "frameLossRatio": round(self.frame_loss_ratio, 6),
        }


def measure(path: PathModel, seed: str) -> Measurement:
    """Mean one-way frame delay, mean inter-frame delay variation and loss of PROBES OAM frames."""
    generator = random.Random(seed)
    jitter = JITTER_US_PER_ELEMENT * len(path.elements) + path.extra_delay_ms * 100  # impairments add jitter
    samples = [path.base_delay_us + generator.uniform(0, jitter) for _ in range(PROBES)]
    variation = sum(abs(b - a) for a, b in itertools.pairwise(samples)) / (len(samples) - 1)
    return Measurement(sum(samples) / len(samples) / 1000, variation / 1000, path.loss_ratio)


PROBES_PER_S = 1_000_000 // PROBE_PERIOD_US
"""Delay measurement frames per second of a modelled PM session (every 10 ms)."""


def intervals(path: PathModel, seed: str, profile: dict[str, Any], starts: Iterable[int]) -> list[Document]:
    """The interval records of a PM session over ``path`` for the intervals beginning at ``starts``.

    ``profile`` is the session's ADAGIO measurement profile (``intervalS``, ``deltaTS``, ``thresholdC``,
    ``fdBinsUs``, ``ifdvBinsUs``, ``ifdvDeltaTauUs``). The probes run on without a break, so the frames of
    the Δτ before each interval (drawn again from the earlier intervals' seeds when not just drawn) pair
    with its first frames: the pairs straddling its start."""
    step = int(profile["intervalS"])
    frames = step * PROBES_PER_S
    gap = pair_gap(profile, PROBES_PER_S)
    back = -(-gap // frames)  # the intervals whose frames the straddling pairs reach back to
    jitter_us = JITTER_US_PER_ELEMENT * len(path.elements) + path.extra_delay_ms * 100
    drawn: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def probes(start: int) -> tuple[np.ndarray, np.ndarray]:
        """The delays and losses of the interval's frames, seeded by the session and its start."""
        if start not in drawn:
            digest = hashlib.sha256(f"{seed}@{start}".encode()).digest()
            generator = np.random.default_rng(int.from_bytes(digest[:8], "little"))
            delays = np.maximum(1, np.rint(path.base_delay_us + generator.uniform(0, jitter_us, frames)))
            drawn[start] = (delays.astype(np.int64), generator.random(frames) < path.loss_ratio)
        return drawn[start]

    records = []
    for start in starts:
        earlier = [probes(start - k * step) for k in range(back, 0, -1)]
        before = (
            np.concatenate([delays for delays, _ in earlier])[-gap:],
            np.concatenate([lost for _, lost in earlier])[-gap:],
        )
        delays, lost = probes(start)
        records.append(interval_record(profile, start, PROBES_PER_S, delays, lost, before))
        for old in [s for s in drawn if s <= start - back * step]:  # only the Δτ before the next start
            del drawn[old]
    return records


def pair_gap(profile: dict[str, Any], frames_per_s: int) -> int:
    """Δτ in frames: an IFDV pair is a frame and the one this many frames later."""
    return int(profile["ifdvDeltaTauUs"]) * frames_per_s // 1_000_000


def interval_record(
    profile: dict[str, Any],
    start: int,
    frames_per_s: int,
    delays_us: np.ndarray,
    lost: np.ndarray,
    before: tuple[np.ndarray, np.ndarray] | None = None,
) -> Document:
    """The record of one measurement interval from its delay measurement frames, in sending order and
    ``1 / frames_per_s`` apart: each frame's one-way delay (µs; ignored where ``lost``). ``before`` is
    the delays and losses of the frames sent in the Δτ just before the interval (None when they were not
    sent): their pairs with its first frames straddle its start and are reported apart
    (``ifdv_straddling_*``), since SOF counts them only when it counts the previous interval too.

    Shared by the model (``intervals``) and the linux driver's real probes, so both report alike."""
    interval_s, delta_t_s = int(profile["intervalS"]), int(profile["deltaTS"])
    gap = pair_gap(profile, frames_per_s)
    frames = len(lost)
    loss_per_delta_t = lost.reshape(interval_s // delta_t_s, -1).mean(axis=1)
    delivered = delays_us[~lost]
    lead = 0 if before is None else len(before[1])
    if before is not None:
        delays_us, lost = np.concatenate([before[0], delays_us]), np.concatenate([before[1], lost])
    # Pair (e, e + gap) whose later frame is the interval's: e ≥ lead − gap; straddling while e < lead.
    earliest = max(0, lead - gap)
    earlier = np.arange(earliest, max(earliest, len(lost) - gap)) if gap > 0 else np.zeros(0, dtype=np.int64)
    both = ~lost[earlier] & ~lost[earlier + gap]
    variations = np.abs(delays_us[earlier + gap] - delays_us[earlier])
    ifdv_bins_us = np.asarray(profile["ifdvBinsUs"], dtype=np.int64)
    inside, straddling = variations[both & (earlier >= lead)], variations[both & (earlier < lead)]
    return {
        "start": start,
        "offered": frames,
        "delivered": int(delivered.size),
        "fd_sum_us": int(delivered.sum()),
        "fd_min_us": int(delivered.min()) if delivered.size else 0,
        "fd_max_us": int(delivered.max(initial=0)),
        "fd_bins": _bins(delivered, np.asarray(profile["fdBinsUs"], dtype=np.int64)),
        "ifdv_max_us": int(inside.max(initial=0)),
        "ifdv_bins": _bins(inside, ifdv_bins_us),
        "ifdv_straddling_max_us": int(straddling.max(initial=0)),
        "ifdv_straddling_bins": _bins(straddling, ifdv_bins_us),
        "high_loss": [int(ratio > float(profile["thresholdC"])) for ratio in loss_per_delta_t],
    }


def _bins(values: np.ndarray, lower_bounds: np.ndarray) -> list[int]:
    index = np.searchsorted(lower_bounds, values, side="right") - 1
    return [int(count) for count in np.bincount(index, minlength=len(lower_bounds))]


@dataclass(frozen=True)
class StepResult:
    name: str
    offered_bps: int
    green_bps: float
    delivered_bps: float
    frame_loss_ratio: float
    passed: bool

    def wire(self) -> Document:
        return {
            "step": self.name,
            "offeredBps": self.offered_bps,
            "greenBps": round(self.green_bps),
            "deliveredBps": round(self.delivered_bps),
            "frameLossRatio": round(self.frame_loss_ratio, 6),
            "passed": self.passed,
        }


def _warm_up_frames(profile: BandwidthProfile, rate_bps: int) -> int:
    """Frames that drain the buckets' initial burst, so a short step measures the steady rate."""
    seconds = 0.0
    if rate_bps > profile.cir:
        seconds += profile.cbs * 8 / (rate_bps - profile.cir)
    if rate_bps > profile.cir + profile.eir:
        seconds += profile.ebs * 8 / (rate_bps - profile.cir - profile.eir)
    return min(_MAX_WARM_UP_FRAMES, math.ceil(seconds * rate_bps / (8 * TEST_FRAME_BYTES)))


def run_step(
    name: str,
    profile: BandwidthProfile,
    rate_bps: int,
    path: PathModel,
    expect: tuple[float, float],
    flr_limit: float,
) -> StepResult:
    """Offer constant-rate test frames to the UNI's profile and check green and delivered rates.

    ``expect`` is (minimum green rate, maximum delivered rate) in bit/s.
    """
    interval_ns = TEST_FRAME_BYTES * 8 * 1_000_000_000 / rate_bps
    warm_up = _warm_up_frames(profile, rate_bps)
    green, yellow, _ = constant_rate_colours(profile, rate_bps, TEST_FRAME_BYTES, STEP_FRAMES, warm_up)
    seconds = STEP_FRAMES * interval_ns / 1e9
    delivered_frames = (green + yellow) * (1 - path.loss_ratio)
    green_bps = green * (1 - path.loss_ratio) * TEST_FRAME_BYTES * 8 / seconds
    delivered_bps = delivered_frames * TEST_FRAME_BYTES * 8 / seconds
    min_green, max_delivered = expect
    passed = (
        green_bps >= min_green * (1 - _RATE_TOLERANCE)
        and delivered_bps <= max_delivered * (1 + _RATE_TOLERANCE)
        and path.loss_ratio <= flr_limit
    )
    return StepResult(name, rate_bps, green_bps, delivered_bps, path.loss_ratio, passed)


def activation_test(
    profile: BandwidthProfile, cir: int, eir: int, path: PathModel, acceptance: Acceptance, seed: str
) -> Document:
    """A Y.1564 test: configuration steps up to CIR, at CIR+EIR and over it (policing), then performance."""
    flr = acceptance.frameLossRatio
    steps = [
        run_step(
            f"cir-{share}%", profile, cir * share // 100, path, (cir * share / 100, cir * share / 100), flr
        )
        for share in (25, 50, 75, 100)
    ]
    if eir > 0:
        steps.append(run_step("cir+eir", profile, cir + eir, path, (cir, cir + eir), flr))
    steps.append(run_step("policing", profile, (cir + eir) * 5 // 4, path, (cir, cir + eir), flr))
    performance = measure(path, seed)
    throughput = next(s for s in steps if s.name == "cir-100%").delivered_bps
    performance_passed = (
        performance.frame_delay_ms <= acceptance.frameDelayMs
        and performance.frame_delay_variation_ms <= acceptance.frameDelayVariationMs
        and performance.frame_loss_ratio <= acceptance.frameLossRatio
    )
    return {
        "configurationTest": [s.wire() for s in steps],
        "performanceTest": {
            **performance.wire(),
            "throughputBps": round(throughput),
            "passed": performance_passed,
        },
        "path": list(path.elements),
        "distanceKm": path.distance_km,
        "passed": performance_passed and all(s.passed for s in steps),
    }
