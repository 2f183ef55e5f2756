"""Proactive performance monitoring on the linux data plane: the MEF 35.1 measurement intervals of every PM
session, measured by real frames between the customer-edge hosts of its two ends.

Each session with a measurement profile is a *stream*: a UDP socket in the A-end CE host sends small
sequenced frames at a low rate, a socket in the Z-end CE host receives them, and both timestamps are the
kernel's (transmit timestamp at departure, receive timestamp at arrival) on the one host clock, so every
frame's delay is a true one-way delay, whatever Python was doing when it sent or read it.

Frames are scheduled on the wall clock: frame ``k`` of a stream is due at ``k × period`` since the epoch,
so a wall-clock-aligned interval [S, S + L) is exactly frames ``S × rate`` to ``(S + L) × rate`` and each
Δt of it has the same number of frames — the interval is reduced to its record by the same code as the
``sim`` model's (``oam.interval_record``: delay and IFDV bins per the profile, counts, H(Δt) flags),
given the frames of the Δτ before it when they were sent, for the IFDV pairs straddling its start.

One thread serves every stream of the domain (the frames of all streams fall due together, so it wakes at
most ``1 / period`` times a second), sleeping between due times; it reads arrivals and transmit
timestamps without waiting, in batches every ``COLLECT_S`` (the kernel keeps each frame's timestamp with
it in the socket's queue). The rate is the lowest that gives every Δt of the session's
profiles ``MIN_FRAMES_PER_DELTA_T`` frames and puts frames exactly Δτ apart (10 to 100 frames/s of
``FRAME_BYTES``): a few kbit/s per session.

This data plane does not tell CoS apart, so every CoS profile of a session is measured from the same
frames. An interval is reported only when every frame of it was sent: one that began before the stream
started, or in which the domain fell more than ``MAX_LATE_S`` behind (its frames would leave in a
burst at the wrong times), is not — unmeasured, as MEF 35.1 has it, rather than wrong. Completed
intervals are kept in memory (``HISTORY`` per CoS); the sessions and their profiles are persisted by the
driver, so a restarted domain measures again from its next whole interval.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from typing import Any

import numpy as np

from lso.ecm import oam
from lso.ecm.drivers.linux import probe
from lso.ecm.drivers.sim import OAM_HISTORY as HISTORY

Document = dict[str, Any]

FRAME_BYTES = 128
RATES = (10, 20, 50, 100)
"""Frames per second a stream may use (periods of 100, 50, 20 and 10 ms: Δτ is a multiple of 10 ms)."""
MIN_FRAMES_PER_DELTA_T = 10
DRAIN_S = 1.0
"""An interval closes this long after its end: frames still in flight may arrive until then."""
MAX_LATE_S = 1.0
WARM_UP_S = 0.5
"""A stream's first reported interval starts at least this long after it opened (ARP between the CE
hosts resolves on the first frames)."""
COLLECT_S = 0.25
"""How often arrivals and transmit timestamps are read, in batches: the kernel queues them, with their
timestamps, on the sockets meanwhile (a read per frame would cost more than the frame)."""
_NS = 1_000_000_000

log = logging.getLogger(__name__)


def frames_per_s(profiles: list[Document]) -> int:
    """The lowest rate that puts ``MIN_FRAMES_PER_DELTA_T`` frames in every Δt and frames exactly Δτ apart."""
    for rate in RATES:
        if all(
            int(p["deltaTS"]) * rate >= MIN_FRAMES_PER_DELTA_T
            and int(p["ifdvDeltaTauUs"]) * rate % 1_000_000 == 0
            for p in profiles
        ):
            return rate
    return RATES[-1]


class _Stream:
    """One PM session's frames: the sockets, the departure and arrival time of recent frames (a ring
    indexed by sequence number) and the completed interval records per CoS."""

    def __init__(self, a: probe.Endpoint, z: probe.Endpoint, profiles: list[Document], now_ns: int) -> None:
        self.profiles = profiles
        self.rate = frames_per_s(profiles)
        self.period_ns = _NS // self.rate
        longest = max(int(p["intervalS"]) for p in profiles)
        # The ring holds an interval until it closes, and the Δτ before it (its straddling IFDV pairs).
        tau_s = max(int(p["ifdvDeltaTauUs"]) for p in profiles) / 1_000_000
        self.capacity = math.ceil(longest + tau_s + DRAIN_S + MAX_LATE_S + 2) * self.rate
        self.departed = np.zeros(self.capacity, dtype=np.int64)
        self.arrived = np.zeros(self.capacity, dtype=np.int64)
        self.padding = probe.padding_for(a, FRAME_BYTES)
        self.pair = probe.SocketPair(a, z)
        self.sender, self.receiver, self.target = self.pair.__enter__()
        self.receiver.setblocking(False)
        self.next_seq = -(-now_ns // self.period_ns)
        self.valid_from_ns = now_ns + round(WARM_UP_S * _NS)
        self.key_of: dict[int, int] = {}  # OPT_ID key (n-th datagram the socket accepted) → sequence number
        self.keys = 0
        self.gaps: list[tuple[int, int]] = []  # [first, last) sequence numbers skipped (too late to send)
        self.closed = {str(p["cosName"]): deque[Document](maxlen=HISTORY) for p in profiles}
        self.next_close = {str(p["cosName"]): self._first_start(p) for p in profiles}

    def _first_start(self, profile: Document) -> int:
        length = int(profile["intervalS"])
        return -(-self.valid_from_ns // (length * _NS)) * length

    @property
    def next_due_ns(self) -> int:
        return self.next_seq * self.period_ns

    def send_due(self, now_ns: int) -> None:
        """Send every frame due by now; frames more than ``MAX_LATE_S`` late are skipped, and the intervals
        they belonged to will not be reported."""
        late = now_ns - round(MAX_LATE_S * _NS)
        if self.next_due_ns < late:
            skipped_to = -(-late // self.period_ns)
            self.gaps.append((self.next_seq, skipped_to))
            self.next_seq = skipped_to
        while self.next_due_ns <= now_ns:
            seq, slot = self.next_seq, self.next_seq % self.capacity
            handed = time.time_ns()
            self.departed[slot], self.arrived[slot] = handed, 0
            self.next_seq += 1
            try:
                self.sender.sendto(probe.frame(seq, handed, self.padding), self.target)
            except OSError:
                continue  # refused by the sending host (its link down): offered and lost
            self.key_of[self.keys] = seq
            self.keys += 1

    def _holds(self, seq: int) -> bool:
        return self.next_seq - self.capacity <= seq < self.next_seq

    def collect(self) -> None:
        """Record the transmit timestamps and arrivals queued since the last call (without waiting)."""
        departures: dict[int, int] = {}
        probe.collect_departures(self.sender, departures)
        for key, stamp in departures.items():
            seq = self.key_of.pop(key, None)
            if seq is not None and self._holds(seq):
                self.departed[seq % self.capacity] = stamp
        while True:
            try:
                arrived = probe.read_arrival(self.receiver)
            except (BlockingIOError, InterruptedError):
                return
            if arrived is not None and self._holds(arrived[0]):
                seq, stamp = arrived
                slot = seq % self.capacity
                if not self.arrived[slot]:
                    self.arrived[slot] = stamp

    @property
    def closes_at_ns(self) -> int:
        """When the next interval (of any CoS) may be closed."""
        return min(
            (self.next_close[str(p["cosName"])] + int(p["intervalS"])) * _NS + round(DRAIN_S * _NS)
            for p in self.profiles
        )

    def close_intervals(self, now_ns: int) -> None:
        """Reduce every interval that ended ``DRAIN_S`` ago to its record."""
        if now_ns < self.closes_at_ns:
            return
        for profile in self.profiles:
            cos, length = str(profile["cosName"]), int(profile["intervalS"])
            while (self.next_close[cos] + length + DRAIN_S) * _NS <= now_ns:
                start = self.next_close[cos]
                self.next_close[cos] = start + length
                first, last = start * self.rate, (start + length) * self.rate
                if not self._measured(first, last):
                    continue
                lead = first - oam.pair_gap(profile, self.rate)
                before = self._frames(lead, first) if self._measured(lead, first) else None
                record = oam.interval_record(profile, start, self.rate, *self._frames(first, last), before)
                self.closed[cos].append({"cosName": cos, **record})
        # Keys of frames whose timestamp never came (dropped by the host) would pile up, and old gaps.
        oldest = self.next_seq - self.capacity
        for key in [k for k, seq in self.key_of.items() if seq < oldest]:
            del self.key_of[key]
        self.gaps = [gap for gap in self.gaps if gap[1] > oldest]

    def _frames(self, first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
        """The one-way delays (µs) of frames ``first`` to ``last`` (exclusive), and which were lost."""
        slots = np.arange(first, last) % self.capacity
        arrived, departed = self.arrived[slots], self.departed[slots]
        return np.maximum(0, (arrived - departed) // 1000), arrived == 0

    def _measured(self, first: int, last: int) -> bool:
        """Whether every frame ``first`` to ``last`` (exclusive) was sent, on time, by this stream (and
        is still held)."""
        return (
            first * self.period_ns >= self.valid_from_ns
            and self._holds(first)
            and last <= self.next_seq
            and not any(a < last and first < b for a, b in self.gaps)
        )

    def close(self) -> None:
        self.pair.__exit__(None, None, None)


class PerformanceMonitor:
    """Every stream of the domain, served by one thread."""

    def __init__(self) -> None:
        self._streams: dict[str, _Stream] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="pm-monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            for stream in self._streams.values():
                stream.close()
            self._streams.clear()

    def profiles(self, session_id: str) -> list[Document] | None:
        """The profiles a session's stream measures by (None: no stream)."""
        with self._lock:
            stream = self._streams.get(session_id)
            return stream.profiles if stream else None

    def watch(self, session_id: str, a: probe.Endpoint, z: probe.Endpoint, profiles: list[Document]) -> None:
        """Measure the session from its next whole interval (replacing a stream with other profiles)."""
        if self.profiles(session_id) == profiles:
            return
        try:
            stream = _Stream(a, z, profiles, time.time_ns())
        except probe.ProbeError as error:  # the CE hosts are not there (yet): measured once configured
            log.warning("PM session %s cannot be measured now: %s", session_id, error)
            return
        with self._lock:
            previous = self._streams.pop(session_id, None)
            self._streams[session_id] = stream
        if previous is not None:
            previous.close()

    def forget(self, session_id: str) -> None:
        """Stop measuring the session (its service left one of its ends); its records go with it."""
        with self._lock:
            stream = self._streams.pop(session_id, None)
        if stream is not None:
            stream.close()

    def intervals(self, session_id: str, since: int | None) -> list[Document]:
        with self._lock:
            stream = self._streams.get(session_id)
            if stream is None:
                return []
            found = [r for records in stream.closed.values() for r in records]
        return [r for r in found if since is None or r["start"] >= since]

    def _run(self) -> None:
        """Send what is due (the streams' frames fall due together); every ``COLLECT_S``, read what
        arrived and close the intervals that are over."""
        collected = 0
        while not self._stop.is_set():
            now = time.time_ns()
            with self._lock:
                for stream in self._streams.values():
                    stream.send_due(now)
                if now >= collected + round(COLLECT_S * _NS):
                    collected = now
                    for stream in self._streams.values():
                        stream.collect()
                        stream.close_intervals(now)
                due = min((s.next_due_ns for s in self._streams.values()), default=now + _NS)
            due = min(due, collected + round(COLLECT_S * _NS))
            self._stop.wait(max(0, due - time.time_ns()) / _NS)
