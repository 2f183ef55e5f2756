"""Measurement interval series: what MEF 10.4 metrics need, in compact records.

A series belongs to one ordered pair of service end points ⟨source, sink⟩ and one CoS of a service
(:class:`SeriesKey`). It is a sequence of measurement intervals (MEF 35.1: typically 15 min, or 1 min),
each one record of :func:`interval_dtype`:

- ``offered`` / ``delivered``: qualified frames offered at the source and delivered at the sink (MEF 10.4
  §8.8.6 frame loss ratio; as MEF 35.1 counts them, only in available Δt).
- one-way frame delay: MEF 35.1 measurement bins ``fd_bins`` (counts per bin; bin ``i`` holds delays in
  ``[fd_bins_us[i], fd_bins_us[i+1])`` microseconds, the last bin is open) plus exact ``fd_sum_us``,
  ``fd_min_us`` and ``fd_max_us``. Summing bins over the intervals of a period T gives the delay
  distribution over T, so the percentile (§8.8.2) and range (§8.8.4) over T are exact up to the bin
  resolution — and the met/not-met decision is exact when the objective (plus 1 µs) is a bin bound, which
  :meth:`MeasurementProfile.for_objectives` arranges. The mean (§8.8.3) and minimum are exact.
- inter-frame delay variation (§8.8.5): bins of |d_a − d_b| for frame pairs Δτ apart, plus the maximum.
  A pair belongs to the interval in which its later frame was sent (as MEF 35.1 counts it, at the end of
  the pair). The pairs wholly inside the interval (``ifdv_bins``, ``ifdv_max_us``) are kept apart from
  those that straddle its start, the earlier frame sent in the previous interval
  (``ifdv_straddling_bins``, ``ifdv_straddling_max_us``): MEF 10.4 counts a pair over T when both frames
  are qualified frames of T, so a straddling pair counts only when the previous interval is in T and
  qualified too — which only the assessment over T can tell (``intervals.py``).
- availability (§8.8.7): one bit per Δt of the interval, H(Δt_k) = 1 when flr(Δt_k) > C (the source knows
  the SLS's Δt and C as MEF 35.1 is configured with them). Availability depends on runs of n Δt that may
  cross interval and day boundaries; keeping every H bit lets the run be followed exactly across them —
  a per-interval count of high-loss Δt would not.

They are stored by :mod:`lso.sof.assurance.measurement_store`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

DAY_S = 86_400
_BASE_BINS_US = (0, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000)


@dataclass(frozen=True, order=True)
class SeriesKey:
    """One ordered pair ⟨source, sink⟩ of service end points (UNIs or EVC end points) and one CoS."""

    service_id: str
    source: str
    sink: str
    cos_name: str


@dataclass(frozen=True)
class MeasurementProfile:
    """How the intervals of a series were measured (MEF 35.1 PM session configuration)."""

    interval_s: int
    delta_t_s: int
    threshold_c: float
    fd_bins_us: tuple[int, ...] = _BASE_BINS_US
    ifdv_bins_us: tuple[int, ...] = _BASE_BINS_US
    ifdv_delta_tau_us: int = 1_000_000

    def __post_init__(self) -> None:
        if self.interval_s <= 0 or self.delta_t_s <= 0 or self.interval_s % self.delta_t_s:
            raise ValueError("the measurement interval must be a whole number of Δt")
        if DAY_S % self.interval_s:
            raise ValueError("a day must be a whole number of measurement intervals")
        for bins in (self.fd_bins_us, self.ifdv_bins_us):
            if not bins or bins[0] != 0 or list(bins) != sorted(set(bins)):
                raise ValueError("measurement bins are increasing lower bounds starting at 0")

    @property
    def delta_ts(self) -> int:
        """Δt per measurement interval."""
        return self.interval_s // self.delta_t_s

    @classmethod
    def for_objectives(
        cls,
        interval_s: int,
        delta_t_s: int,
        threshold_c: float,
        fd_objectives_us: Iterable[int] = (),
        ifdv_objectives_us: Iterable[int] = (),
        ifdv_delta_tau_us: int = 1_000_000,
    ) -> MeasurementProfile:
        """A profile whose bins make "percentile ≤ objective" decidable exactly: a bin starts at every
        objective + 1 µs, so the delays ≤ objective are exactly the bins below it."""
        return cls(
            interval_s,
            delta_t_s,
            threshold_c,
            tuple(sorted(set(_BASE_BINS_US) | {o + 1 for o in fd_objectives_us})),
            tuple(sorted(set(_BASE_BINS_US) | {o + 1 for o in ifdv_objectives_us})),
            ifdv_delta_tau_us,
        )

    def to_json(self) -> str:
        return json.dumps(self.__dict__, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> MeasurementProfile:
        raw: dict[str, Any] = json.loads(text)
        raw["fd_bins_us"] = tuple(raw["fd_bins_us"])
        raw["ifdv_bins_us"] = tuple(raw["ifdv_bins_us"])
        return cls(**raw)


@functools.lru_cache(maxsize=64)
def interval_dtype(profile: MeasurementProfile) -> np.dtype[Any]:
    """The record of one measurement interval (see the module docstring for the meaning of each field).

    Every field is made of whole little-endian 32-bit words: a 64-bit counter is a (low, high) word pair,
    so the sum of many records' words gives the sum of their counters exactly."""
    return np.dtype(
        [
            ("start", "<i8"),
            ("offered", "<u8"),
            ("delivered", "<u8"),
            ("fd_sum_us", "<u8"),
            ("fd_min_us", "<u4"),
            ("fd_max_us", "<u4"),
            ("fd_bins", "<u4", (len(profile.fd_bins_us),)),
            ("ifdv_max_us", "<u4"),
            ("ifdv_bins", "<u4", (len(profile.ifdv_bins_us),)),
            ("ifdv_straddling_max_us", "<u4"),
            ("ifdv_straddling_bins", "<u4", (len(profile.ifdv_bins_us),)),
            # Whole 32-bit words, so a record is a row of uint32 words that one pass can sum (metrics.py).
            ("high_loss", "u1", ((profile.delta_ts + 31) // 32 * 4,)),
        ]
    )


def empty(profile: MeasurementProfile, count: int) -> np.ndarray:
    """``count`` zeroed interval records (no frames, no delay samples, no high-loss Δt)."""
    return np.zeros(count, dtype=interval_dtype(profile))


def summarize(
    profile: MeasurementProfile,
    start: int,
    offered: int,
    delivered: int,
    delays_us: Sequence[int] | np.ndarray,
    ifdv_us: Sequence[int] | np.ndarray,
    high_loss: Sequence[bool] | np.ndarray,
    straddling_ifdv_us: Sequence[int] | np.ndarray = (),
) -> np.ndarray:
    """One interval record from raw samples: frame counts, the one-way delays of the delay measurement
    frames, the |Δd| of frame pairs Δτ apart inside the interval, H(Δt) for each Δt of the interval, and
    the |Δd| of the pairs that straddle its start (:func:`interval_delay_variations` splits them)."""
    if start % profile.interval_s:
        raise ValueError("an interval starts on a multiple of the measurement interval")
    if len(high_loss) != profile.delta_ts:
        raise ValueError(f"expected H for {profile.delta_ts} Δt, got {len(high_loss)}")
    record = empty(profile, 1)
    record["start"] = start
    record["offered"] = offered
    record["delivered"] = delivered
    delays = np.asarray(delays_us, dtype=np.int64)
    if delays.size:
        record["fd_sum_us"] = delays.sum()
        record["fd_min_us"] = delays.min()
        record["fd_max_us"] = delays.max()
        record["fd_bins"][0] = _bin_counts(delays, profile.fd_bins_us)
    for prefix, samples in (("ifdv", ifdv_us), ("ifdv_straddling", straddling_ifdv_us)):
        variations = np.asarray(samples, dtype=np.int64)
        if variations.size:
            record[f"{prefix}_max_us"] = variations.max()
            record[f"{prefix}_bins"][0] = _bin_counts(variations, profile.ifdv_bins_us)
    packed = np.packbits(np.asarray(high_loss, dtype=bool), bitorder="little")
    record["high_loss"][0, : len(packed)] = packed
    return record


def delay_variations(
    sent_us: Sequence[int] | np.ndarray, delays_us: Sequence[int] | np.ndarray, delta_tau_us: int
) -> np.ndarray:
    """|d_a − d_b| for every pair of delivered frames a, b whose ingress times are exactly Δτ apart
    (MEF 10.4 §8.8.5): the samples :func:`summarize` bins for inter-frame delay variation."""
    _, variations = _pairs(sent_us, delays_us, delta_tau_us)
    return variations


def interval_delay_variations(
    sent_us: Sequence[int] | np.ndarray,
    delays_us: Sequence[int] | np.ndarray,
    delta_tau_us: int,
    start_us: int,
) -> tuple[np.ndarray, np.ndarray]:
    """For the interval that starts at ``start_us``: the |d_a − d_b| of the pairs Δτ apart whose later
    frame was sent in it, split into the pairs wholly inside it and those straddling its start. The frames
    sent before ``start_us`` are the previous interval's (its last Δτ is enough); pairs of two of them
    belong to that interval and are left out."""
    earlier_sent, variations = _pairs(sent_us, delays_us, delta_tau_us)
    later_in = earlier_sent + delta_tau_us >= start_us
    return variations[later_in & (earlier_sent >= start_us)], variations[later_in & (earlier_sent < start_us)]


def _pairs(
    sent_us: Sequence[int] | np.ndarray, delays_us: Sequence[int] | np.ndarray, delta_tau_us: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ingress time of each pair's earlier frame, and the pair's |Δd|."""
    sent = np.asarray(sent_us, dtype=np.int64)
    delays = np.asarray(delays_us, dtype=np.int64)
    order = np.argsort(sent, kind="stable")
    sent, delays = sent[order], delays[order]
    later = np.searchsorted(sent, sent + delta_tau_us)
    found = later < len(sent)
    found[found] = sent[later[found]] == sent[found] + delta_tau_us
    return sent[found], np.abs(delays[later[found]] - delays[found])


def _bin_counts(values: np.ndarray, lower_bounds: tuple[int, ...]) -> np.ndarray:
    index = np.searchsorted(np.asarray(lower_bounds), values, side="right") - 1
    return np.bincount(index, minlength=len(lower_bounds))


def high_loss_bits(records: np.ndarray, profile: MeasurementProfile) -> np.ndarray:
    """H(Δt) of the records as booleans, shape ``records.shape + (delta_ts,)``."""
    bits = np.unpackbits(records["high_loss"], axis=-1, bitorder="little")
    return bits[..., : profile.delta_ts].astype(bool)


@dataclass(frozen=True)
class IntervalSeries:
    """The records of one series over a period, sorted by start."""

    key: SeriesKey
    profile: MeasurementProfile
    records: np.ndarray
