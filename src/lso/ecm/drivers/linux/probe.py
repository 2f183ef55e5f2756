"""A UDP probe between two network namespaces: one-way delay, delay variation, loss and throughput.

One process owns a socket in each namespace (a helper thread enters the namespace just to open it; a
socket keeps the namespace it was created in), so the sender's timestamp and the kernel's receive
timestamp (SO_TIMESTAMPNS) come from the same clock and the delay is truly one-way.

A test set generates at a precise rate, and Python on a loaded host cannot: a late sender catches up
with a burst, which a UNI's policer rightly drops once it exceeds the CBS. So the kernel paces: for the
run, a token bucket filter (TBF) on the sender's interface shapes at exactly the offered rate with a burst
of two frames, and the sender's socket blocks while the TBF holds its frames (its send buffer is smaller
than the TBF's queue, so no frame is ever dropped locally). A frame's send time is its departure from
the host, the kernel's transmit timestamp (SO_TIMESTAMPING, taken by the veth after the TBF), so the
delay and the timeline are the network's, not the shaper's queue. Where ``tc`` is missing the sender
paces alone (``shaped`` false). This kernel has no ``fq`` qdisc, which would pace a socket by its own
SO_MAX_PACING_RATE.

Sizes are Ethernet frame lengths without FCS — what a UNI's ingress policer counts — so the probe's
bytes and the policer's counters can be compared directly. The optional :func:`iperf3` runs the
well-known tool between the same endpoints when it is installed.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import ipaddress
import itertools
import json
import math
import os
import select
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

NETNS_DIR = "/run/netns"
_CLONE_NEWNET = 0x40000000
_ETHERNET_HEADER = 14
_UDP_HEADER = 8
_HEADER = struct.Struct("!QQ")  # sequence number, send time (ns since the epoch)
_DRAIN_S = 0.25  # after the last frame: how long frames still in flight may take to arrive
_RECEIVE_POLL_S = 0.05
# Python 3.11 lacks the constants; their values in asm-generic/socket.h (x86, arm, riscv).
_SO_TIMESTAMPNS: int = getattr(socket, "SO_TIMESTAMPNS", 35)
_SO_TIMESTAMPING: int = getattr(socket, "SO_TIMESTAMPING", 37)
_SO_SNDBUFFORCE, _SO_RCVBUFFORCE = 32, 33
# Transmit timestamps taken by the driver, reported by OPT_ID key (the n-th datagram sent), no payload.
_TX_SOFTWARE, _SOFTWARE, _OPT_ID, _OPT_TSONLY = 1 << 1, 1 << 4, 1 << 7, 1 << 11
_TX_TIMESTAMPS = _TX_SOFTWARE | _SOFTWARE | _OPT_ID | _OPT_TSONLY
_SO_EE_ORIGIN_TIMESTAMPING = 4
_RECVERR = {(socket.SOL_IP, 11), (getattr(socket, "SOL_IPV6", 41), 25)}  # IP_RECVERR, IPV6_RECVERR
_ERRQUEUE_SPACE = 512
_RECEIVE_SPACE = socket.CMSG_SPACE(16)
# The sender may run this far ahead of its schedule: the TBF's queue absorbs the host's scheduling
# hiccups up to that much, so the departures stay at the exact rate.
_LEAD_S = 0.02
_PRIORITY = -5  # the probe process's niceness increment (root only)
_COLLECT_EVERY = 64  # frames between two collections of transmit timestamps
_SEND_BUFFER = 1 << 20  # truesize bytes the TBF may hold for the socket before a send blocks
_SHAPER_LIMIT = 16 << 20  # the TBF's queue in bytes: above anything the send buffer lets through
_MIN_SHAPER_BURST = 1514  # a full-size frame of another sender must still pass the TBF

Document = dict[str, Any]
T = TypeVar("T")


class ProbeError(RuntimeError):
    """A probe could not open its sockets, or iperf3 failed."""


@dataclass(frozen=True)
class Endpoint:
    """An address in a network namespace (``port`` 0: the probe picks a free one on the receiving end)."""

    netns: str
    address: str
    port: int = 0

    @property
    def family(self) -> socket.AddressFamily:
        return socket.AF_INET6 if ipaddress.ip_address(self.address).version == 6 else socket.AF_INET

    def payload_bytes(self, frame_bytes: int) -> int:
        """The UDP payload that makes an Ethernet frame of ``frame_bytes``."""
        ip_header = 40 if self.family == socket.AF_INET6 else 20
        payload = frame_bytes - _ETHERNET_HEADER - ip_header - _UDP_HEADER
        if payload < _HEADER.size:
            raise ProbeError(f"frames of {frame_bytes} bytes cannot carry the probe's header")
        return payload


@dataclass(frozen=True)
class DelayStats:
    mean_ms: float
    min_ms: float
    max_ms: float
    p50_ms: float
    p95_ms: float
    p99_ms: float

    def wire(self) -> Document:
        return {
            key: round(value, 4)
            for key, value in (
                ("meanMs", self.mean_ms),
                ("minMs", self.min_ms),
                ("maxMs", self.max_ms),
                ("p50Ms", self.p50_ms),
                ("p95Ms", self.p95_ms),
                ("p99Ms", self.p99_ms),
            )
        }


@dataclass(frozen=True)
class Interval:
    """The frames sent during one interval of the run, and how many of those arrived."""

    sent: int
    received: int


@dataclass(frozen=True)
class ProbeResult:
    frame_bytes: int
    offered_bps: int
    duration_s: float
    interval_s: float
    frames_sent: int
    frames_received: int
    delay: DelayStats | None
    delay_variation_ms: float
    timeline: list[Interval] = field(repr=False)
    shaped: bool = False

    @property
    def bytes_sent(self) -> int:
        return self.frames_sent * self.frame_bytes

    @property
    def bytes_received(self) -> int:
        return self.frames_received * self.frame_bytes

    @property
    def loss_ratio(self) -> float:
        return 1 - self.frames_received / self.frames_sent if self.frames_sent else 0.0

    @property
    def throughput_bps(self) -> float:
        return self.bytes_received * 8 / self.duration_s if self.duration_s else 0.0

    @property
    def outage_s(self) -> float:
        """The longest run of intervals in which frames were sent and none of them arrived."""
        longest = run = 0
        for interval in self.timeline:
            if interval.received:
                run = 0
            elif interval.sent or run:
                run += 1
                longest = max(longest, run)
        return longest * self.interval_s

    def wire(self) -> Document:
        return {
            "frameBytes": self.frame_bytes,
            "offeredBps": self.offered_bps,
            "durationS": round(self.duration_s, 4),
            "framesSent": self.frames_sent,
            "framesReceived": self.frames_received,
            "frameLossRatio": round(self.loss_ratio, 6),
            "throughputBps": round(self.throughput_bps),
            "frameDelay": self.delay.wire() if self.delay else None,
            "frameDelayVariationMs": round(self.delay_variation_ms, 4),
            "outageMs": round(self.outage_s * 1000, 1),
            "shaped": self.shaped,
        }


def in_netns(netns: str, action: Callable[[], T]) -> T:
    """``action()`` run inside ``netns`` by a short-lived helper thread: no other thread changes namespace.

    What the action creates keeps its namespace (a socket stays in the namespace it was made in).
    """
    done: list[T] = []
    failed: list[BaseException] = []

    def inside() -> None:
        try:
            namespace = os.open(os.path.join(NETNS_DIR, netns), os.O_RDONLY)
            try:
                if _libc().setns(namespace, _CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), f"setns {netns}: {os.strerror(ctypes.get_errno())}")
                done.append(action())
            finally:
                os.close(namespace)
        except BaseException as error:
            failed.append(error)

    helper = threading.Thread(target=inside, name=f"netns-{netns}")
    helper.start()
    helper.join()
    if failed:
        raise failed[0]
    return done[0]


def netns_socket(netns: str, family: socket.AddressFamily, kind: socket.SocketKind) -> socket.socket:
    """A socket created inside ``netns``."""
    try:
        return in_netns(netns, lambda: socket.socket(family, kind))
    except OSError as error:
        raise ProbeError(f"cannot open a socket in {netns}: {error}") from error


def run_probe(
    a: Endpoint, z: Endpoint, rate_bps: int, frame_bytes: int, duration_s: float, interval_s: float = 0.01
) -> ProbeResult:
    """Send sequenced, timestamped frames from ``a`` to ``z`` at ``rate_bps`` for ``duration_s``.

    The test set is a process of its own (this module run as a script: standard library only, started in
    tens of milliseconds), so a busy caller — a domain serving requests, all under one GIL — cannot slow
    the generator or the receiver down. One run per sending host at a time: the shaper is the host's.
    """
    request = {
        "a": dataclasses.asdict(a),
        "z": dataclasses.asdict(z),
        "rate_bps": rate_bps,
        "frame_bytes": frame_bytes,
        "duration_s": duration_s,
        "interval_s": interval_s,
    }
    with _SHAPING_GUARD:
        sending = _SHAPING.setdefault(a.netns, threading.Lock())
    with sending:
        done = subprocess.run(
            [sys.executable, __file__], input=json.dumps(request), capture_output=True, text=True, check=False
        )
    if done.returncode != 0:
        raise ProbeError(done.stderr.strip() or f"the probe exited with {done.returncode}")
    return _decoded(json.loads(done.stdout))


def probe_here(
    a: Endpoint, z: Endpoint, rate_bps: int, frame_bytes: int, duration_s: float, interval_s: float
) -> ProbeResult:
    """:func:`run_probe`'s work, in this process."""
    padding = padding_for(a, frame_bytes)
    frames = max(1, math.ceil(rate_bps * duration_s / (8 * frame_bytes)))
    gap_ns = frame_bytes * 8 * 1_000_000_000 / rate_bps
    with SocketPair(a, z) as (sender, receiver, target), shaper(a, z, rate_bps, frame_bytes) as shaped:
        arrivals: dict[int, int] = {}
        stop = threading.Event()
        listener = threading.Thread(target=_receive, args=(receiver, arrivals, stop), name="probe-receiver")
        listener.start()
        try:
            lead_ns = round(_LEAD_S * 1e9) if shaped else 0
            send_times = _send(sender, target, padding, frames, gap_ns, lead_ns)
            stop.wait(_DRAIN_S)  # a measurement window for frames in flight, not a synchronisation
        finally:
            stop.set()
            listener.join()
    return _result(send_times, arrivals, frame_bytes, rate_bps, duration_s, interval_s, shaped)


def _decoded(fields: Document) -> ProbeResult:
    delay = fields.pop("delay")
    timeline = fields.pop("timeline")
    return ProbeResult(
        **fields,
        delay=DelayStats(**delay) if delay else None,
        timeline=[Interval(**interval) for interval in timeline],
    )


def _main() -> None:
    """The probe process: the request on stdin, the result on stdout, a failure's reason on stderr."""
    request = json.load(sys.stdin)
    with contextlib.suppress(OSError):  # like a test set's own hardware, ahead of the host's other work
        os.nice(_PRIORITY)
    try:
        result = probe_here(
            Endpoint(**request["a"]),
            Endpoint(**request["z"]),
            request["rate_bps"],
            request["frame_bytes"],
            request["duration_s"],
            request["interval_s"],
        )
    except (ProbeError, OSError) as error:
        sys.exit(str(error))
    json.dump(dataclasses.asdict(result), sys.stdout)


# The runs of each sending host, one at a time: the TBF is the interface's, not the socket's.
_SHAPING: dict[str, threading.Lock] = {}
_SHAPING_GUARD = threading.Lock()


@contextlib.contextmanager
def shaper(a: Endpoint, z: Endpoint, rate_bps: int, frame_bytes: int) -> Iterator[bool]:
    """A TBF at ``rate_bps`` (burst: two frames) on the interface ``a`` reaches ``z`` by, for the run;
    yields whether the kernel shapes (False without root or ``tc``: the sender then paces alone)."""
    if os.geteuid() != 0 or shutil.which("tc") is None or shutil.which("ip") is None:
        yield False
        return
    device = _route_device(a, z)
    burst = max(2 * frame_bytes, _MIN_SHAPER_BURST)
    tbf = ("tbf", "rate", f"{rate_bps}bit", "burst", str(burst), "limit", str(_SHAPER_LIMIT))
    _tool(a.netns, "tc", "qdisc", "replace", "dev", device, "root", *tbf)
    try:
        yield True
    finally:
        _tool(a.netns, "tc", "qdisc", "del", "dev", device, "root", check=False)


def _route_device(a: Endpoint, z: Endpoint) -> str:
    """The interface of ``a``'s namespace that carries its frames to ``z``."""
    route = json.loads(_tool(a.netns, "ip", "-j", "route", "get", z.address, "from", a.address))
    device: str = route[0]["dev"]
    return device


def _tool(netns: str, *argv: str, check: bool = True) -> str:
    done = subprocess.run(_in_netns(netns, *argv), capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise ProbeError(f"{' '.join(argv[:4])}… in {netns}: {done.stderr.strip()}")
    return done.stdout


class SocketPair:
    """The sender's socket in ``a``, the receiver's bound in ``z``, and where to send."""

    def __init__(self, a: Endpoint, z: Endpoint) -> None:
        self.a, self.z = a, z

    def __enter__(self) -> tuple[socket.socket, socket.socket, tuple[str, int]]:
        self.receiver = netns_socket(self.z.netns, self.z.family, socket.SOCK_DGRAM)
        self.sender = netns_socket(self.a.netns, self.a.family, socket.SOCK_DGRAM)
        self.receiver.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
        with contextlib.suppress(OSError):  # a receiver that falls behind must not lose frames
            self.receiver.setsockopt(socket.SOL_SOCKET, _SO_RCVBUFFORCE, 16 << 20)
        self.receiver.bind((self.z.address, self.z.port))
        self.receiver.settimeout(_RECEIVE_POLL_S)
        self.sender.bind((self.a.address, 0))
        self.sender.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPING, _TX_TIMESTAMPS)
        with contextlib.suppress(OSError):  # root may exceed [rw]mem_max; otherwise the defaults stay
            self.sender.setsockopt(socket.SOL_SOCKET, _SO_SNDBUFFORCE, _SEND_BUFFER)
            self.sender.setsockopt(socket.SOL_SOCKET, _SO_RCVBUFFORCE, 4 << 20)  # the timestamps' queue
        return self.sender, self.receiver, (self.z.address, self.receiver.getsockname()[1])

    def __exit__(self, *_exc: object) -> None:
        self.sender.close()
        self.receiver.close()


def _send(
    sender: socket.socket, target: tuple[str, int], padding: bytes, frames: int, gap_ns: float, lead_ns: int
) -> list[int]:
    """Send on schedule, at most ``lead_ns`` ahead of it (a late sender catches up, so the average rate
    holds); each frame's departure time (its transmit timestamp, or the time it was handed over when the
    kernel reported none: a frame refused or dropped by the sending host)."""
    handed = [0] * frames
    key_of: dict[int, int] = {}  # sequence number → OPT_ID key (the n-th datagram the socket accepted)
    departures: dict[int, int] = {}
    start = time.monotonic_ns() - lead_ns
    for seq in range(frames):
        due = start + round(seq * gap_ns)
        wait = due - time.monotonic_ns()
        if wait > 0 or seq % _COLLECT_EVERY == 0:  # a sender running late still empties the queue
            collect_departures(sender, departures)
        if wait > 0:
            time.sleep(wait / 1e9)  # pacing the offered load
        handed[seq] = time.time_ns()
        # A frame the local stack refuses (link down, no route) was offered and lost: that is what
        # an outage looks like from the customer's host.
        try:
            sender.sendto(frame(seq, handed[seq], padding), target)
        except OSError:
            continue
        key_of[seq] = len(key_of)
    # The shaper may still hold the lead's frames: wait for their departures (bounded, for frames the
    # host dropped, which never depart).
    deadline = time.monotonic() + lead_ns / 1e9 + _DRAIN_S
    queued = select.poll()
    queued.register(sender, 0)  # POLLERR, always reported: a timestamp is on the error queue
    collect_departures(sender, departures)
    while len(departures) < len(key_of) and time.monotonic() < deadline:
        if queued.poll(_RECEIVE_POLL_S * 1000):
            collect_departures(sender, departures)
    return [departures.get(key_of.get(seq, -1), handed[seq]) for seq in range(frames)]


def collect_departures(sender: socket.socket, departures: dict[int, int]) -> None:
    """Collect the transmit timestamps queued on the sender's error queue (key → time), without waiting."""
    while True:
        try:
            _data, ancillary, _flags, _source = sender.recvmsg(
                0, _ERRQUEUE_SPACE, socket.MSG_ERRQUEUE | socket.MSG_DONTWAIT
            )
        except (BlockingIOError, InterruptedError):
            return
        stamp = key = None
        for level, kind, value in ancillary:
            if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPING:
                seconds, nanoseconds = struct.unpack_from("qq", value)
                stamp = seconds * 1_000_000_000 + nanoseconds
            elif (level, kind) in _RECVERR:
                _errno, origin, _type, _code, _pad, _info, data = struct.unpack_from("IBBBBII", value)
                key = data if origin == _SO_EE_ORIGIN_TIMESTAMPING else None
        if stamp and key is not None:
            departures[key] = stamp


def _receive(receiver: socket.socket, arrivals: dict[int, int], stop: threading.Event) -> None:
    """Record each first arrival's kernel receive time by sequence number until told to stop."""
    while not stop.is_set():
        try:
            arrived = read_arrival(receiver)
        except TimeoutError:
            continue
        if arrived is not None:
            arrivals.setdefault(*arrived)


def read_arrival(receiver: socket.socket) -> tuple[int, int] | None:
    """One frame from the receiver's queue: its sequence number and kernel receive time (ns), or None
    for a datagram that is not a probe frame. Raises what ``recvmsg`` raises when nothing is queued."""
    data, ancillary, _flags, _source = receiver.recvmsg(65536, _RECEIVE_SPACE)
    if len(data) < _HEADER.size:
        return None
    seq, _sent = _HEADER.unpack_from(data)
    received_at = time.time_ns()
    for level, kind, value in ancillary:
        if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS:
            seconds, nanoseconds = struct.unpack("qq", value[:16])
            received_at = seconds * 1_000_000_000 + nanoseconds
    return seq, received_at


def frame(seq: int, handed_ns: int, padding: bytes) -> bytes:
    """A probe frame's UDP payload: its sequence number and hand-over time, then ``padding``."""
    return _HEADER.pack(seq, handed_ns) + padding


def padding_for(a: Endpoint, frame_bytes: int) -> bytes:
    """What follows the probe's header in a frame of ``frame_bytes`` sent from ``a``."""
    return bytes(a.payload_bytes(frame_bytes) - _HEADER.size)


def _result(
    send_times: list[int],
    arrivals: dict[int, int],
    frame_bytes: int,
    rate_bps: int,
    duration_s: float,
    interval_s: float,
    shaped: bool = False,
) -> ProbeResult:
    delays = [(arrivals[seq] - send_times[seq]) / 1e6 for seq in sorted(arrivals) if seq < len(send_times)]
    variation = (
        sum(abs(later - earlier) for earlier, later in itertools.pairwise(delays)) / (len(delays) - 1)
        if len(delays) > 1
        else 0.0
    )
    start = min(send_times)
    # The run lasts as long as its departures took (a host that fell behind stretches it), so every
    # interval of the timeline is a real one and no late frame is folded into the last.
    span_s = max(duration_s, (max(send_times) - start) / 1e9)
    slots = max(1, math.ceil(span_s / interval_s))
    sent, received = [0] * slots, [0] * slots
    for seq, sent_at in enumerate(send_times):
        slot = min(slots - 1, int((sent_at - start) / 1e9 / interval_s))
        sent[slot] += 1
        received[slot] += seq in arrivals
    return ProbeResult(
        frame_bytes=frame_bytes,
        offered_bps=rate_bps,
        duration_s=span_s,
        interval_s=interval_s,
        frames_sent=len(send_times),
        frames_received=len(delays),
        delay=_delay_stats(delays),
        delay_variation_ms=variation,
        timeline=[Interval(s, r) for s, r in zip(sent, received, strict=True)],
        shaped=shaped,
    )


def _delay_stats(delays: list[float]) -> DelayStats | None:
    if not delays:
        return None
    ordered = sorted(delays)

    def percentile(share: float) -> float:
        return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]

    return DelayStats(
        mean_ms=sum(ordered) / len(ordered),
        min_ms=ordered[0],
        max_ms=ordered[-1],
        p50_ms=percentile(0.50),
        p95_ms=percentile(0.95),
        p99_ms=percentile(0.99),
    )


def _libc() -> Any:
    return ctypes.CDLL(None, use_errno=True)


# --- iperf3 ---------------------------------------------------------------------------------------------


def iperf3_available() -> bool:
    return shutil.which("iperf3") is not None and shutil.which("nsenter") is not None


def iperf3(a: Endpoint, z: Endpoint, rate_bps: int, duration_s: float, frame_bytes: int = 1000) -> Document:
    """iperf3's UDP test from ``a`` to ``z`` (its JSON ``end`` summary); the server serves one test."""
    port = z.port or 5201
    server = subprocess.Popen(
        _in_netns(z.netns, "iperf3", "-s", "-1", "-B", z.address, "-p", str(port), "-J"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        client = _until_listening(
            lambda: subprocess.run(
                _in_netns(
                    a.netns,
                    *("iperf3", "-u", "-c", z.address, "-p", str(port), "-B", a.address, "-J"),
                    *("-b", str(rate_bps), "-t", str(duration_s), "-l", str(a.payload_bytes(frame_bytes))),
                ),
                capture_output=True,
                text=True,
            )
        )
    finally:
        server.kill()
        server.wait()
    report = json.loads(client.stdout)
    if "error" in report:
        raise ProbeError(f"iperf3: {report['error']}")
    summary: Document = report["end"]
    return summary


def _until_listening(
    attempt: Callable[[], subprocess.CompletedProcess[str]], attempts: int = 50
) -> subprocess.CompletedProcess[str]:
    """Retry the client while the freshly started server is not listening yet (connection refused)."""
    for _ in range(attempts):
        done = attempt()
        if "refused" not in done.stdout + done.stderr:  # iperf3 -J exits 0 even when refused
            return done
        time.sleep(0.02)  # back-off between connection attempts
    return done


def _in_netns(netns: str, *argv: str) -> list[str]:
    return ["nsenter", f"--net={NETNS_DIR}/{netns}", *argv]


if __name__ == "__main__":
    _main()
