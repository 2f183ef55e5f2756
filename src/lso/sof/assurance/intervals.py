"""Interval series over a period T reduced to what the MEF 10.4 metrics need (``metrics.py``).

How interval data becomes the quantities of MEF 10.4 §8.8, with the choices the data forces:

- Frames are qualified per measurement interval: an interval overlapping a maintenance interval, or
  whose every Δt is unavailable, contributes no frames (the frame counters inside an interval are those
  of the measurement point, which counts only in available time as MEF 35.1 requires).
- A(Δt) follows §8.8.7 over the H bits of consecutive intervals, across interval and day boundaries.
  Δt of a missing interval are neither available nor unavailable and count as non-high-loss for the
  runs. Near the end of T the runs look at up to n − 1 Δt after T when they were measured; otherwise they
  are judged on the Δt of T alone.
- An IFDV pair straddling the start of an interval (its earlier frame in the previous interval) counts
  when both intervals are in T and qualified: MEF 10.4 §8.8.5 takes the pairs of qualified frames of T.
  A pair straddling the start of T, or a gap in the series, does not count.
- A series with no high-loss Δt and no maintenance in T — most of them — is reduced in one pass over its
  records' 32-bit words (:func:`measure_series`); the others through the Δt grid (:func:`measure`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lso.sof.assurance.series import IntervalSeries, MeasurementProfile, empty, high_loss_bits

Window = tuple[int, int]
"""A maintenance interval [start, end) in epoch seconds."""


@dataclass
class PairMetrics:
    """What the metrics need from a stack of M series over T, each array of shape (M,) (bins (M, B))."""

    profile: MeasurementProfile
    frames_offered: np.ndarray
    frames_delivered: np.ndarray
    delay_sum_us: np.ndarray
    delay_min_us: np.ndarray
    delay_max_us: np.ndarray
    fd_bins: np.ndarray
    ifdv_max_us: np.ndarray
    ifdv_bins: np.ndarray
    delta_t_counted: np.ndarray
    delta_t_available: np.ndarray
    high_loss_intervals: np.ndarray
    consecutive_high_loss: dict[int, np.ndarray] = field(default_factory=dict)


def availability_states(high_loss: np.ndarray, n: int) -> np.ndarray:
    """A(Δt_k) (True = available) for each row of H, shape (M, K), per MEF 10.4 §8.8.7.

    A run of n Δt all high-loss (all not high-loss) starting at k is a trigger to become unavailable
    (available); a trigger to enter the state already held changes nothing, so A(Δt_k) is the state of the
    latest trigger at or before k — available before the first one.
    """
    rows, count = high_loss.shape
    trigger = np.full((rows, count), -1, dtype=np.int8)
    if count >= n:
        cumulative = np.zeros((rows, count + 1), dtype=np.int32)
        np.cumsum(high_loss, axis=1, out=cumulative[:, 1:])
        in_window = cumulative[:, n:] - cumulative[:, :-n]
        head = trigger[:, : count - n + 1]
        head[in_window == n] = 0
        head[in_window == 0] = 1
    latest = np.where(trigger >= 0, np.arange(count, dtype=np.int64), -1)
    np.maximum.accumulate(latest, axis=1, out=latest)
    state = np.take_along_axis(trigger, np.maximum(latest, 0), axis=1)
    return np.where(latest >= 0, state == 1, True)


def consecutive_runs(flags: np.ndarray, p: int) -> np.ndarray:
    """Per row, how many k have flags[k−p+1 … k] all True (§8.8.9)."""
    rows, count = flags.shape
    if count < p:
        return np.zeros(rows, dtype=np.int64)
    cumulative = np.zeros((rows, count + 1), dtype=np.int32)
    np.cumsum(flags, axis=1, out=cumulative[:, 1:])
    return np.count_nonzero(cumulative[:, p:] - cumulative[:, :-p] == p, axis=1)


def maintenance_mask(start: int, count: int, step_s: int, windows: Iterable[Window]) -> np.ndarray:
    """For ``count`` consecutive slots of ``step_s`` seconds from ``start``: does the slot intersect a
    maintenance interval?"""
    slot = start + np.arange(count, dtype=np.int64) * step_s
    mask = np.zeros(count, dtype=bool)
    for begin, end in windows:
        mask |= (slot < end) & (slot + step_s > begin)
    return mask


@dataclass(frozen=True)
class Grid:
    """A stack of M series on the dense interval grid of T and its look-ahead: the records and which were
    measured, shape (M, I); how many of the I intervals are T's; which Δt (I × Δt per interval)
    intersect a maintenance interval, the same for every series."""

    records: np.ndarray
    present: np.ndarray
    period_intervals: int
    maintenance: np.ndarray


def on_grid(one: IntervalSeries, n: int, start: int, end: int, windows: tuple[Window, ...]) -> Grid:
    """One series on the grid of T = [start, end) and the n − 1 Δt of look-ahead after it."""
    step, per = one.profile.interval_s, one.profile.delta_ts
    period = (end - start) // step
    ahead = -(-(n - 1) // per)
    dense, present = grid(one, start, start + (period + ahead) * step)
    mask = maintenance_mask(start, (period + ahead) * per, one.profile.delta_t_s, windows)
    return Grid(dense[None, :], present[None, :], period, mask)


def delta_t_states(g: Grid, profile: MeasurementProfile, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each Δt of T, shape (M, K): whether it counts (measured and not in maintenance), A(Δt_k),
    and H(Δt_k) as measured. The runs of n Δt continue into the measured look-ahead after T; Δt of a
    missing interval count as not high-loss for them."""
    records, present = g.records, g.present
    rows = records.shape[0]
    per = profile.delta_ts
    in_t = g.period_intervals * per
    counted = np.repeat(present, per, axis=1)[:, :in_t] & ~g.maintenance[None, :in_t]
    available = np.ones((rows, in_t), dtype=bool)
    high_loss = np.zeros((rows, in_t), dtype=bool)
    impaired = np.flatnonzero(records["high_loss"].reshape(rows, -1).any(axis=1))
    if impaired.size:
        bits = high_loss_bits(records[impaired], profile).reshape(impaired.size, -1)
        bits &= np.repeat(present[impaired], per, axis=1)
        available[impaired] = availability_states(bits, n)[:, :in_t]
        high_loss[impaired] = bits[:, :in_t]
    return counted, available, high_loss


def series_delta_t_states(
    one: IntervalSeries, n: int, start: int, end: int, windows: tuple[Window, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`delta_t_states` of one series over T = [start, end): (counts, A) per Δt of T."""
    counted, available, _ = delta_t_states(on_grid(one, n, start, end, windows), one.profile, n)
    return counted[0], available[0]


def measure(g: Grid, profile: MeasurementProfile, n: int, chli_p: Iterable[int] = ()) -> PairMetrics:
    """Reduce a stack of series on the grid to :class:`PairMetrics` over T (the look-ahead only serves
    availability)."""
    records, present, period_intervals, maintenance = g.records, g.present, g.period_intervals, g.maintenance
    rows = records.shape[0]
    per = profile.delta_ts
    counted, available, high_loss = delta_t_states(g, profile, n)
    hli_flags = high_loss & available & counted
    interval_available = available.reshape(rows, period_intervals, per).any(axis=2)
    interval_maintained = np.asarray(
        maintenance[: period_intervals * per].reshape(period_intervals, per).any(axis=1)
    )
    qualified = present[:, :period_intervals] & interval_available & ~interval_maintained[None, :]
    window = records[:, :period_intervals]
    fd_bins = np.where(qualified[..., None], window["fd_bins"], 0).sum(axis=1, dtype=np.int64)
    has_delay = qualified & (window["fd_bins"].sum(axis=2) > 0)
    # The pairs straddling the start of interval k count when interval k − 1 is qualified in T too.
    both = qualified[:, 1:] & qualified[:, :-1]
    straddling = window[:, 1:]
    ifdv_bins = np.where(qualified[..., None], window["ifdv_bins"], 0).sum(axis=1, dtype=np.int64)
    ifdv_bins += np.where(both[..., None], straddling["ifdv_straddling_bins"], 0).sum(axis=1, dtype=np.int64)
    ifdv_max = np.maximum(
        np.where(qualified, window["ifdv_max_us"], 0).max(axis=1, initial=0),
        np.where(both, straddling["ifdv_straddling_max_us"], 0).max(axis=1, initial=0),
    )
    big = np.iinfo(np.uint32).max
    return PairMetrics(
        profile=profile,
        frames_offered=np.where(qualified, window["offered"], 0).sum(axis=1, dtype=np.int64),
        frames_delivered=np.where(qualified, window["delivered"], 0).sum(axis=1, dtype=np.int64),
        delay_sum_us=np.where(qualified, window["fd_sum_us"], 0).sum(axis=1, dtype=np.int64),
        delay_min_us=np.where(has_delay, window["fd_min_us"], big).min(axis=1),
        delay_max_us=np.where(has_delay, window["fd_max_us"], 0).max(axis=1),
        fd_bins=fd_bins,
        ifdv_max_us=ifdv_max,
        ifdv_bins=ifdv_bins,
        delta_t_counted=counted.sum(axis=1),
        delta_t_available=(available & counted).sum(axis=1),
        high_loss_intervals=hli_flags.sum(axis=1),
        consecutive_high_loss={p: consecutive_runs(hli_flags, p) for p in set(chli_p)},
    )


def grid(series: IntervalSeries, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
    """The series' records on the dense interval grid of [start, end), and which were measured."""
    step = series.profile.interval_s
    count = (end - start) // step
    dense = empty(series.profile, count)
    present = np.zeros(count, dtype=bool)
    slots = (series.records["start"] - start) // step
    inside = (slots >= 0) & (slots < count) & ((series.records["start"] - start) % step == 0)
    dense[slots[inside]] = series.records[inside]
    present[slots[inside]] = True
    return dense, present


# SLS time units (the product schema's TimeDurationUnits, MEF 101's Time units) in microseconds.


def measure_stack(
    members: list[IntervalSeries],
    profile: MeasurementProfile,
    n: int,
    start: int,
    end: int,
    windows: tuple[Window, ...],
    chli_p: set[int],
) -> PairMetrics:
    parts = [measure_series(one, n, start, end, windows, chli_p) for one in members]
    rows = {name: np.concatenate([getattr(part, name) for part in parts]) for name in _ROW_FIELDS}
    chli = {p: np.concatenate([part.consecutive_high_loss[p] for part in parts]) for p in chli_p}
    return PairMetrics(profile, **rows, consecutive_high_loss=chli)


_ROW_FIELDS = (
    "frames_offered",
    "frames_delivered",
    "delay_sum_us",
    "delay_min_us",
    "delay_max_us",
    "fd_bins",
    "ifdv_max_us",
    "ifdv_bins",
    "delta_t_counted",
    "delta_t_available",
    "high_loss_intervals",
)


def measure_series(
    one: IntervalSeries, n: int, start: int, end: int, windows: tuple[Window, ...], chli_p: Iterable[int] = ()
) -> PairMetrics:
    """:func:`measure` of one series over T = [start, end) (one row).

    Most series have no high-loss Δt and no maintenance in T: every Δt is then available and every
    measured interval qualified, so one pass summing the records' 32-bit words gives the counters and bins
    without building the Δt grid. The others take the general path through :func:`grid`.
    """
    profile = one.profile
    step = profile.interval_s
    period = (end - start) // step
    ahead = -(-(n - 1) // profile.delta_ts)
    first, last, beyond = np.searchsorted(
        one.records["start"], [start, start + period * step, start + (period + ahead) * step]
    )
    dtype = one.records.dtype
    words = one.records[first:beyond].view("<u4").reshape(beyond - first, -1)
    # The per-record fields that are not summed, gathered in one pass: min, max, IFDV max, H words.
    columns = [_word(dtype, "fd_min_us"), _word(dtype, "fd_max_us"), _word(dtype, "ifdv_max_us")]
    high_loss = _word(dtype, "high_loss")
    gathered = words[:, columns + list(range(high_loss, words.shape[1]))]
    simple = (
        start % step == 0
        and not gathered[:, 3:].any()
        and not any(begin < end and finish > start for begin, finish in windows)
    )
    if not simple:
        return measure(on_grid(one, n, start, end, windows), profile, n, chli_p)
    in_t, in_t_words = gathered[: last - first], words[: last - first]
    sums = in_t_words.sum(axis=0, dtype=np.uint64)
    has_delay = in_t[:, 1] > 0  # a delay is never 0 µs, so a maximum of 0 means no delay samples
    counted = np.array([(last - first) * profile.delta_ts])
    ifdv_bins = _summed(sums, dtype, "ifdv_bins")
    ifdv_max = int(in_t[:, 2].max(initial=0))
    straddling = _summed(sums, dtype, "ifdv_straddling_bins")
    if straddling.any():
        starts = one.records["start"][first:last]
        bins, most = _straddling_in_t(in_t_words, starts, step, dtype, straddling)
        ifdv_bins, ifdv_max = ifdv_bins + bins, max(ifdv_max, most)
    return PairMetrics(
        profile=profile,
        frames_offered=_summed(sums, dtype, "offered"),
        frames_delivered=_summed(sums, dtype, "delivered"),
        delay_sum_us=_summed(sums, dtype, "fd_sum_us"),
        delay_min_us=np.array([in_t[has_delay, 0].min(initial=np.iinfo(np.uint32).max)]),
        delay_max_us=np.array([in_t[:, 1].max(initial=0)]),
        fd_bins=_summed(sums, dtype, "fd_bins")[None, :],
        ifdv_max_us=np.array([ifdv_max]),
        ifdv_bins=ifdv_bins[None, :],
        delta_t_counted=counted,
        delta_t_available=counted,
        high_loss_intervals=np.zeros(1, dtype=np.int64),
        consecutive_high_loss={p: np.zeros(1, dtype=np.int64) for p in set(chli_p)},
    )


def _straddling_in_t(
    words: np.ndarray, starts: np.ndarray, step: int, dtype: np.dtype[Any], total: np.ndarray
) -> tuple[np.ndarray, int]:
    """The bins and maximum of the IFDV pairs straddling interval starts that count over T when every
    interval of T is qualified: all of them (``total``, from the records' ``words``) but those of an
    interval whose previous one is not in T — the first, or one after a gap."""
    alone = np.diff(starts, prepend=starts[0] - 2 * step) != step
    bins = total - _summed(words[alone].sum(axis=0, dtype=np.uint64), dtype, "ifdv_straddling_bins")
    most = words[~alone, _word(dtype, "ifdv_straddling_max_us")].max(initial=0)
    return bins, int(most)


def _word(dtype: np.dtype[Any], name: str) -> int:
    """The index of a field's first 32-bit word in a record."""
    return int(dtype.fields[name][1]) // 4  # type: ignore[index]


def _summed(sums: np.ndarray, dtype: np.dtype[Any], name: str) -> np.ndarray:
    """A field's total from the per-word sums: 32-bit words as they are, 64-bit ones as low + high·2³²."""
    field_dtype, offset = dtype.fields[name][:2]  # type: ignore[index]
    words = sums[offset // 4 : (offset + field_dtype.itemsize) // 4].astype(np.int64)
    if field_dtype.base.itemsize == 8:
        return words[0::2] + (words[1::2] << 32)
    return words
