"""Ingress bandwidth profiles on a UNI: MEF 10.3's two-rate three-colour marker run by the kernel.

The exact policer is the eBPF program ``bpf/trtcm.c`` (the same integer arithmetic as
:mod:`lso.ecm.bandwidth`), compiled with clang at first use and loaded with bpftool once per network
namespace; its maps are pinned under ``/sys/fs/bpf/<prefix>/<netns>/`` and keyed by ifindex, and it is
attached as a tc ``clsact`` ingress filter of each policed interface — by netlink, on a session the policer
keeps per namespace, so attaching and detaching start no process. The program and its maps belong to the
namespace (an element), not to a policed interface: loaded ahead of the first policer (:meth:`Policer.
prepare`) or at it, they stay, without entries, when the last one is detached — loading costs a bpftool
process (≈ 15 ms, more under load), a service's setup should not pay it — and go with the namespace
(:func:`clean`). Pins outlive the process, so a restarted domain finds its policers and :func:`clean` can
remove them after a ``kill -9``.

Commands that must see an interface run with ``nsenter --net`` rather than ``ip netns exec``: the latter
remounts /sys in a private mount namespace, which hides the pinned objects.

Without clang, bpftool or bpf, the fallback is nftables ``limit`` (a rule per colour, counters named per
interface) — close to the same buckets but not MEF's exact algorithm, so it is reported as approximate.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lso.ecm.bandwidth import ColourCount
from lso.ecm.drivers import BandwidthProfileFlow
from lso.ecm.drivers.linux.bpfsys import PinnedMap, obj_get, possible_cpus
from lso.ecm.drivers.linux.probe import in_netns
from lso.ecm.drivers.linux.rtnl import NetlinkError, Rtnl

BPF_FS = Path("/sys/fs/bpf")
NETNS_DIR = Path("/run/netns")
_SOURCE = Path(__file__).with_name("bpf") / "trtcm.c"
_UNITS_PER_BYTE = 8_000_000_000  # tokens are 1e-9 bit, as in lso.ecm.bandwidth
_NEVER = 2**64 - 1  # fill time of a bucket with no rate
_MAX_BURST = (2**63 - 1) // _UNITS_PER_BYTE  # the kernel's bucket arithmetic stays within 64 bits
_PROFILES, _BUCKETS, _COLOURS, _PROGRAM = "profiles", "bucket_state", "colours", "prog"
_FILTER = ("pref", "1", "handle", "1")
_PREFERENCE = _HANDLE = 1
_PROGRAM_NAME = "trtcm"
_COUNTERS = struct.Struct("<6Q")  # struct colour_counters
_BUCKETS_SIZE = 32  # struct buckets: lock word (padded), committed, excess, last_ns
_PROFILE_SIZE = 48  # struct profile: see profile_entry
_COLOUR_NAMES = ("green", "yellow", "red")
# Attaching reads then writes a namespace's pins and maps: one change at a time in this process.
_CHANGING = threading.Lock()


@dataclass(frozen=True)
class PolicerSupport:
    exact: bool
    reason: str


class PolicerError(RuntimeError):
    """A kernel tool refused to install or remove a policer."""


@cache
def support() -> PolicerSupport:
    """Whether the exact (eBPF) policer can run here, and if not, why not."""
    if os.geteuid() != 0:
        return PolicerSupport(False, "not root: loading eBPF programs needs CAP_BPF and CAP_NET_ADMIN")
    missing = [tool for tool in ("clang", "bpftool", "tc", "nsenter") if shutil.which(tool) is None]
    if missing:
        return PolicerSupport(False, f"{', '.join(missing)} not installed")
    if not BPF_FS.is_dir():
        return PolicerSupport(False, f"{BPF_FS} does not exist (kernel without bpf filesystem)")
    try:
        compiled_program()
    except PolicerError as error:
        return PolicerSupport(False, str(error))
    return PolicerSupport(True, "eBPF trTCM on tc clsact ingress")


@cache
def compiled_program() -> Path:
    """The object file of ``trtcm.c``, compiled once per source and clang version into a cache dir."""
    clang = _run(["clang", "--version"]).splitlines()[0]
    digest = hashlib.sha256(_SOURCE.read_bytes() + clang.encode()).hexdigest()[:16]
    target = Path(tempfile.gettempdir()) / f"lso-bpf-{digest}" / "trtcm.o"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.tmp")
    arch_headers = f"/usr/include/{platform.machine()}-linux-gnu"  # asm/types.h on Debian multiarch
    _run(
        ["clang", "-O2", "-g", "-target", "bpf", f"-I{arch_headers}", "-c", str(_SOURCE), "-o", str(partial)]
    )
    partial.replace(target)  # atomic: a concurrent first use never loads half an object
    return target


def profile_entry(profile: BandwidthProfileFlow) -> bytes:
    """The kernel's ``struct profile`` for a bandwidth profile flow."""
    if max(profile.cbs, profile.ebs) > _MAX_BURST:
        raise PolicerError(f"burst sizes above {_MAX_BURST} bytes are not supported")
    committed, excess = profile.cbs * _UNITS_PER_BYTE, profile.ebs * _UNITS_PER_BYTE
    return struct.pack(
        "<6Q",
        profile.cir,
        profile.eir,
        committed,
        excess,
        -(-committed // profile.cir) if profile.cir else _NEVER,
        -(-excess // profile.eir) if profile.eir else _NEVER,
    )


class Policer:
    """The ingress policers of one domain; every kernel object it creates is named by ``prefix``."""

    def __init__(self, prefix: str, *, exact: bool | None = None) -> None:
        self.prefix = prefix
        self.exact = support().exact if exact is None else exact
        self._sessions: dict[str, Rtnl] = {}  # a netlink session per namespace
        self._loaded: dict[str, _Loaded] = {}  # the program and maps of each namespace, open
        self._hooked: set[tuple[str, int]] = set()  # (namespace, ifindex): filter in place ahead (hook)
        self._hook_sessions: dict[str, Rtnl] = {}  # the sessions of the thread that calls hook

    def attach(
        self, netns: str, ifname: str, profile: BandwidthProfileFlow, ifindex: int | None = None
    ) -> None:
        """Police ``ifname``'s ingress; on a policed interface, change the profile live (counters kept).
        A caller that knows the interface's index passes it: looking it up is a request whose answer
        (the whole link) costs more to decode than the rest of the attach."""
        with _CHANGING:
            if self.exact:
                self._attach_bpf(netns, ifname, profile, ifindex)
            else:
                _nft_namespaces(self.prefix).mkdir(parents=True, exist_ok=True)
                (_nft_namespaces(self.prefix) / netns).touch()
                _nft(netns, _nft_policer(self._table, ifname, profile))

    def prepare(self, netns: str) -> None:
        """Load the namespace's program and maps now, ahead of its first policer (exact policer only)."""
        if self.exact:
            with _CHANGING:
                self._program(netns)

    def hook(self, netns: str, ifindex: int) -> None:
        """Put the filter on interface ``ifindex`` of ``netns`` before it has a profile (the thread that
        makes CE hosts ahead calls this): the program lets a frame of an interface without a profile
        pass, and a later :meth:`attach` then only writes the maps — no netlink request on the path of a
        service's setup. Exact policer only; one thread calls it."""
        if not self.exact:
            return
        with _CHANGING:
            program = self._program(netns).program
        if netns not in self._hook_sessions:
            self._hook_sessions[netns] = self._new_session(netns)
        session = self._hook_sessions[netns]
        session.clsact(ifindex)
        session.ingress_bpf(ifindex, _PREFERENCE, _HANDLE, program, _PROGRAM_NAME)
        with _CHANGING:
            self._hooked.add((netns, ifindex))

    def detach(self, netns: str, ifname: str, ifindex: int | None = None) -> None:
        """Stop policing ``ifname`` (at ``ifindex`` when the caller knows it); its counters go with it."""
        with _CHANGING:
            if self.exact:
                self._detach_bpf(netns, ifname, ifindex)
            else:
                _nft(netns, _nft_removal(self._table, ifname), check=False)

    def counters(self, netns: str) -> dict[str, ColourCount]:
        """The colour counters of every policed interface of ``netns``, by ifname: one pass over one map."""
        if not self.exact:
            return _nft_counters(netns, self._table)
        colours = self._pins(netns) / _COLOURS
        if not colours.exists():
            return {}
        with _CHANGING:
            names = {msg["index"]: msg.get_attr("IFLA_IFNAME") for msg in self._session(netns).links()}
        result = {}
        with PinnedMap(colours, _COUNTERS.size, per_cpu=True) as counters:
            for ifindex in counters.ifindexes():
                value = counters.lookup(ifindex)
                if value is None or ifindex not in names:
                    continue
                per_cpu = [
                    _COUNTERS.unpack_from(value, cpu * _COUNTERS.size) for cpu in range(possible_cpus())
                ]
                total = dict(
                    zip(_bpf_fields(), (sum(column) for column in zip(*per_cpu, strict=True)), strict=True)
                )
                result[names[ifindex]] = _colour_counters(total, approximate=False)
        return result

    def clean(self) -> None:
        self.close()
        clean(self.prefix)

    def close(self) -> None:
        """Release the netlink sessions and descriptors (the kernel objects stay)."""
        for netns in {*self._sessions, *self._loaded}:
            self._forget(netns)
        for session in self._hook_sessions.values():
            session.close()
        self._hook_sessions.clear()

    def _session(self, netns: str) -> Rtnl:
        if netns not in self._sessions:
            self._sessions[netns] = self._new_session(netns)
        return self._sessions[netns]

    @staticmethod
    def _new_session(netns: str) -> Rtnl:
        return Rtnl(in_netns(netns, lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 0)))

    def _forget(self, netns: str) -> None:
        """Drop the namespace's session and descriptors (the namespace went, or the policer closes)."""
        session = self._sessions.pop(netns, None)
        if session is not None:
            session.close()
        loaded = self._loaded.pop(netns, None)
        if loaded is not None:
            loaded.close()

    @property
    def _table(self) -> str:
        return f"{self.prefix}_police"

    def _pins(self, netns: str) -> Path:
        return BPF_FS / self.prefix / netns

    def _program(self, netns: str) -> _Loaded:
        """The program and maps of ``netns``, open (loaded and pinned at the namespace's first policer; a
        restarted domain finds them pinned)."""
        loaded = self._loaded.get(netns)
        if loaded is not None:
            return loaded
        _mount_bpf_fs()
        pins = self._pins(netns)
        program = pins / _PROGRAM
        if not program.exists():
            if pins.exists():  # maps of a load interrupted before the program was pinned
                shutil.rmtree(pins)
            pins.mkdir(parents=True)
            load = ["bpftool", "prog", "load", str(compiled_program()), str(program), "type", "classifier"]
            _run([*load, "pinmaps", str(pins)])
        loaded = self._loaded[netns] = _Loaded.of(pins)
        return loaded

    def _attach_bpf(
        self, netns: str, ifname: str, profile: BandwidthProfileFlow, ifindex: int | None
    ) -> None:
        loaded = self._program(netns)
        if ifindex is None:
            found = self._session(netns).link_by_name(ifname)
            if found is None:
                raise PolicerError(f"{netns}/{ifname}: no such interface")
            ifindex = int(found["index"])
        if loaded.buckets.lookup(ifindex) is None:
            # Buckets start full (MEF 10.3); lock word 0, last frame time 0 = none yet.
            full = (0, profile.cbs * _UNITS_PER_BYTE, profile.ebs * _UNITS_PER_BYTE, 0)
            loaded.colours.update(ifindex, bytes(loaded.colours.value_size))
            loaded.buckets.update(ifindex, struct.pack("<4Q", *full))
        loaded.profiles.update(ifindex, profile_entry(profile))
        if (netns, ifindex) not in self._hooked:
            session = self._session(netns)
            session.clsact(ifindex)
            session.ingress_bpf(ifindex, _PREFERENCE, _HANDLE, loaded.program, _PROGRAM_NAME)

    def _detach_bpf(self, netns: str, ifname: str, ifindex: int | None) -> None:
        pins = self._pins(netns)
        if not (pins / _PROGRAM).exists():  # nothing was ever attached here
            return
        if not (NETNS_DIR / netns).exists():  # the namespace went, and its interfaces and filters with it
            self._forget(netns)
            shutil.rmtree(pins)
            return
        if ifindex is None:
            found = self._session(netns).link_by_name(ifname)
            if found is None:
                return  # the interface is gone, and its hook with it (its map entries stay until clean)
            ifindex = int(found["index"])
        with contextlib.suppress(NetlinkError):  # no filter (left by an interrupted attach)
            self._session(netns).ingress_bpf_del(ifindex, _PREFERENCE, _HANDLE)
        self._hooked.discard((netns, ifindex))
        loaded = self._program(netns)
        for entries in (loaded.colours, loaded.buckets, loaded.profiles):
            entries.delete(ifindex)


@dataclass
class _Loaded:
    """A namespace's policer program and its maps, held open while the policer runs (opening a pinned
    object is a path walk in the bpf filesystem; a service's setup would pay four per UNI)."""

    program: int
    profiles: PinnedMap
    buckets: PinnedMap
    colours: PinnedMap

    @classmethod
    def of(cls, pins: Path) -> _Loaded:
        program = obj_get(pins / _PROGRAM)
        profiles = PinnedMap(pins / _PROFILES, _PROFILE_SIZE)
        buckets = PinnedMap(pins / _BUCKETS, _BUCKETS_SIZE)
        return cls(program, profiles, buckets, PinnedMap(pins / _COLOURS, _COUNTERS.size, per_cpu=True))

    def close(self) -> None:
        os.close(self.program)
        for pinned in (self.profiles, self.buckets, self.colours):
            pinned.close()


def clean(prefix: str) -> None:
    """Remove every filter, pin, map and table of ``prefix`` — also after a ``kill -9``."""
    root = BPF_FS / prefix
    if root.is_dir():
        for pins in root.iterdir():
            if (NETNS_DIR / pins.name).exists() and (pins / _PROFILES).exists():
                names = _ifnames(pins.name)
                with PinnedMap(pins / _PROFILES, 0) as profiles:
                    policed = profiles.ifindexes()
                for ifindex in policed:
                    if ifindex in names:
                        command = ["tc", "filter", "del", "dev", names[ifindex], "ingress", *_FILTER, "bpf"]
                        _run(_in_netns(pins.name, *command), check=False)
        shutil.rmtree(root)
    record = _nft_namespaces(prefix)
    if record.is_dir():
        for netns in record.iterdir():
            if (NETNS_DIR / netns.name).exists():
                _nft(netns.name, f"delete table netdev {prefix}_police\n", check=False)
        shutil.rmtree(record)


# --- kernel tools -------------------------------------------------------------------------------------


def _run(argv: list[str], *, stdin: str | None = None, check: bool = True) -> str:
    done = subprocess.run(argv, input=stdin, capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise PolicerError(f"{' '.join(argv[:4])}…: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def _in_netns(netns: str, *argv: str) -> list[str]:
    return ["nsenter", f"--net={NETNS_DIR / netns}", *argv]


@cache  # once per process: /proc/mounts lists every namespace of the host, so reading it is not free
def _mount_bpf_fs() -> None:
    mounts = Path("/proc/mounts").read_text().split("\n")
    if not any(line.split(" ")[1:3] == [str(BPF_FS), "bpf"] for line in mounts if line):
        _run(["mount", "-t", "bpf", "bpf", str(BPF_FS)])


@cache
def _bpf_fields() -> tuple[str, ...]:
    return tuple(f"{colour}_{unit}" for colour in _COLOUR_NAMES for unit in ("frames", "octets"))


def _ifnames(netns: str) -> dict[int, str]:
    if not (NETNS_DIR / netns).exists():
        return {}
    return dict(in_netns(netns, socket.if_nameindex))


# --- nftables fallback --------------------------------------------------------------------------------


def _nft_namespaces(prefix: str) -> Path:
    """A file per namespace that got a fallback table, so that cleaning visits only those."""
    return Path(tempfile.gettempdir()) / "lso-nft" / prefix


def _nft(netns: str, script: str, *, check: bool = True) -> str:
    return _run(_in_netns(netns, "nft", "-f", "-"), stdin=script, check=check)


def _nft_policer(table: str, ifname: str, profile: BandwidthProfileFlow) -> str:
    """A chain on ``ifname``'s ingress: within CIR green, within EIR yellow, else red (dropped).

    nftables' ``limit`` only takes tokens from a frame it matches, so a frame over CIR falls through to
    the excess rule as in coupling flag 0. Named counters survive the chain's flush on a live change.
    """
    chain = f"netdev {table} in_{ifname}"
    lines = [f"add table netdev {table}"]
    lines += [f"add counter netdev {table} in_{ifname}_{colour}" for colour in _COLOUR_NAMES]
    lines.append(f'add chain {chain} {{ type filter hook ingress device "{ifname}" priority 0; }}')
    lines.append(f"flush chain {chain}")
    for colour, rate, burst in (("green", profile.cir, profile.cbs), ("yellow", profile.eir, profile.ebs)):
        if rate > 0:
            limit = f"limit rate {max(1, rate // 8)} bytes/second burst {burst} bytes"
            lines.append(f"add rule {chain} {limit} counter name in_{ifname}_{colour} accept")
    lines.append(f"add rule {chain} counter name in_{ifname}_red drop")
    return "\n".join(lines) + "\n"


def _nft_removal(table: str, ifname: str) -> str:
    lines = [f"delete chain netdev {table} in_{ifname}"]
    lines += [f"delete counter netdev {table} in_{ifname}_{colour}" for colour in _COLOUR_NAMES]
    return "\n".join(lines) + "\n"


def _nft_counters(netns: str, table: str) -> dict[str, ColourCount]:
    done = subprocess.run(
        _in_netns(netns, "nft", "-j", "list", "counters", "table", "netdev", table),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        return {}  # no policer in this namespace yet
    values: dict[str, dict[str, int]] = {}
    for item in json.loads(done.stdout)["nftables"]:
        counter = item.get("counter")
        if counter is None:
            continue
        ifname, colour = counter["name"].removeprefix("in_").rsplit("_", 1)
        fields = values.setdefault(ifname, {})
        fields[f"{colour}_frames"] = counter["packets"]
        fields[f"{colour}_octets"] = counter["bytes"]
    return {ifname: _colour_counters(fields, approximate=True) for ifname, fields in values.items()}


def _colour_counters(values: dict[str, int], *, approximate: bool) -> ColourCount:
    """Counters from ``<colour>_frames``/``<colour>_octets`` values (a colour never counted is 0)."""
    return ColourCount(
        green_frames=values.get("green_frames", 0),
        green_octets=values.get("green_octets", 0),
        yellow_frames=values.get("yellow_frames", 0),
        yellow_octets=values.get("yellow_octets", 0),
        red_frames=values.get("red_frames", 0),
        red_octets=values.get("red_octets", 0),
        approximate=approximate,
    )
