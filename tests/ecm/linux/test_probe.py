"""The UDP probe between two namespaces: one-clock delay, loss, throughput and a measured outage.

The ``hosts`` fixture builds two namespaces joined by one veth, quiet on purpose (no IPv6, static
neighbours) so that every frame crossing the link is a probe frame and counters can be compared exactly.
The policer tests use it too.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from lso.ecm.drivers.linux.probe import Endpoint, Interval, ProbeResult, iperf3, iperf3_available, run_probe
from tests.conftest import require
from tests.harness import wait_until

FRAME_BYTES = 1000


@dataclass(frozen=True)
class Hosts:
    """Namespaces ``a`` and ``z``; ``z_if`` is z's end of the veth, where a policer polices a's frames."""

    prefix: str
    a: Endpoint
    z: Endpoint
    a_if: str
    z_if: str


def _ip(*argv: str) -> None:
    subprocess.run(["ip", *argv], check=True, capture_output=True)


def _in(netns: str, *argv: str, stdin: str | None = None) -> str:
    command = ["nsenter", f"--net=/run/netns/{netns}", *argv]
    return subprocess.run(command, input=stdin, check=True, capture_output=True, text=True).stdout


# A cut of the link that the sender does not notice (a link set down would stop its transmit counter).
_DROP_ALL = """add table netdev {table}
add chain netdev {table} cut {{ type filter hook ingress device "{ifname}" priority 0; policy drop; }}
"""


def _link(netns: str, ifname: str) -> dict[str, Any]:
    """The interface as ``ip -s link`` shows it (sysfs would show the host's namespace, not ``netns``)."""
    done = subprocess.run(
        ["ip", "-j", "-s", "-n", netns, "link", "show", "dev", ifname], capture_output=True, check=True
    )
    link: dict[str, Any] = json.loads(done.stdout)[0]
    return link


def tx_packets(netns: str, ifname: str) -> int:
    return int(_link(netns, ifname)["stats64"]["tx"]["packets"])


def rx_bytes(netns: str, ifname: str) -> int:
    return int(_link(netns, ifname)["stats64"]["rx"]["bytes"])


@pytest.fixture
def hosts() -> Iterator[Hosts]:
    require(os.geteuid() == 0, "network namespaces need root")
    require(all(shutil.which(tool) for tool in ("ip", "nsenter")), "iproute2 and nsenter are needed")
    prefix = f"lsop{uuid.uuid4().hex[:6]}"
    a, z = f"{prefix}a", f"{prefix}z"
    try:
        for netns in (a, z):
            _ip("netns", "add", netns)
            for scope in ("all", "default"):
                _in(netns, "sysctl", "-qw", f"net.ipv6.conf.{scope}.disable_ipv6=1")
        _ip("link", "add", a, "netns", a, "type", "veth", "peer", "name", z, "netns", z)
        for netns, address in ((a, "10.0.0.1/24"), (z, "10.0.0.2/24")):
            _ip("-n", netns, "addr", "add", address, "dev", netns)
            _ip("-n", netns, "link", "set", netns, "up")
        for netns, peer, address in ((a, z, "10.0.0.2"), (z, a, "10.0.0.1")):
            lladdr = _link(peer, peer)["address"]
            _ip("-n", netns, "neigh", "replace", address, "lladdr", lladdr, "dev", netns, "nud", "permanent")
        yield Hosts(prefix, Endpoint(a, "10.0.0.1"), Endpoint(z, "10.0.0.2"), a, z)
    finally:
        for netns in (a, z):
            subprocess.run(["ip", "netns", "del", netns], capture_output=True)


def test_probe_measures_one_way_delay_loss_and_throughput(hosts: Hosts) -> None:
    result = run_probe(hosts.a, hosts.z, 4_000_000, FRAME_BYTES, duration_s=1.0)

    assert result.frames_sent == 500  # 4 Mbit/s of 1000-byte frames for one second
    assert result.frames_received == result.frames_sent
    assert result.loss_ratio == 0
    assert result.bytes_received == 500 * FRAME_BYTES
    assert result.throughput_bps == pytest.approx(result.bytes_received * 8 / result.duration_s)
    assert result.delay is not None
    delay = result.delay
    assert 0 < delay.min_ms <= delay.p50_ms <= delay.p95_ms <= delay.p99_ms <= delay.max_ms
    assert delay.min_ms <= delay.mean_ms <= delay.max_ms
    assert 0 <= result.delay_variation_ms <= delay.max_ms - delay.min_ms
    assert sum(i.sent for i in result.timeline) == result.frames_sent
    assert sum(i.received for i in result.timeline) == result.frames_received
    assert result.outage_s == 0
    wire = result.wire()
    assert wire["framesReceived"] == 500 and wire["frameLossRatio"] == 0


def test_the_probe_frames_have_the_ethernet_length_asked_for(hosts: Hosts) -> None:
    """Sizes are Ethernet frame lengths, as a UNI's policer counts them."""
    before = rx_bytes(hosts.z.netns, hosts.z_if)
    result = run_probe(hosts.a, hosts.z, 1_000_000, 200, duration_s=0.5)
    after = rx_bytes(hosts.z.netns, hosts.z_if)

    assert after - before == result.frames_sent * 200


def test_an_outage_is_the_longest_run_of_intervals_without_arrivals(hosts: Hosts) -> None:
    """The link drops everything after a third of the frames and carries again after two thirds."""
    require(shutil.which("nft") is not None, "nftables is not installed")
    rate, duration = 2_000_000, 1.5
    frames = int(rate * duration / (8 * FRAME_BYTES))
    start = tx_packets(hosts.a.netns, hosts.a_if)

    def cut_the_link() -> None:
        wait_until(
            lambda: tx_packets(hosts.a.netns, hosts.a_if) - start >= frames // 3, timeout=10, interval=0.005
        )
        _in(hosts.z.netns, "nft", "-f", "-", stdin=_DROP_ALL.format(table=hosts.prefix, ifname=hosts.z_if))
        wait_until(
            lambda: tx_packets(hosts.a.netns, hosts.a_if) - start >= 2 * frames // 3,
            timeout=10,
            interval=0.005,
        )
        _in(hosts.z.netns, "nft", "delete", "table", "netdev", hosts.prefix)

    cutter = threading.Thread(target=cut_the_link)
    cutter.start()
    result = run_probe(hosts.a, hosts.z, rate, FRAME_BYTES, duration)
    cutter.join()

    lost = result.frames_sent - result.frames_received
    assert frames // 5 <= lost <= frames // 2
    gap_s = FRAME_BYTES * 8 / rate
    # The lost frames are one contiguous run: the outage is their span, to an interval either side.
    assert abs(result.outage_s - lost * gap_s) <= 2 * result.interval_s


def test_outage_counts_only_intervals_after_frames_went_missing() -> None:
    timeline = [
        Interval(2, 2),
        Interval(2, 0),
        Interval(0, 0),
        Interval(2, 0),
        Interval(2, 1),
        Interval(2, 0),
    ]
    result = ProbeResult(1000, 1, 0.06, 0.01, 10, 3, None, 0.0, timeline)

    assert result.outage_s == pytest.approx(0.03)
    quiet = ProbeResult(
        1000, 1, 0.03, 0.01, 2, 2, None, 0.0, [Interval(0, 0), Interval(2, 2), Interval(0, 0)]
    )
    assert quiet.outage_s == 0


def test_iperf3_between_the_namespaces(hosts: Hosts) -> None:
    require(iperf3_available(), "iperf3 is not installed")
    summary = iperf3(hosts.a, hosts.z, 2_000_000, 1)

    assert summary["sum"]["lost_percent"] == 0
    assert summary["sum"]["bytes"] > 0
