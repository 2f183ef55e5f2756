"""The eBPF policer: MEF 10.3's trTCM in the kernel, checked against lso.ecm.bandwidth and the probe.

Traffic goes from namespace ``a`` to ``z`` (see test_probe.hosts); the policer sits on the ingress of
z's end of the veth, where a's frames arrive, as it sits on a UNI for the customer's frames.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from lso.ecm.bandwidth import BandwidthProfile, Colour, ColourCount, TwoRateThreeColourMarker, police_period
from lso.ecm.drivers import Acceptance, BandwidthProfileFlow
from lso.ecm.drivers.linux.policer import BPF_FS, Policer, clean, profile_entry, support
from lso.ecm.drivers.linux.probe import ProbeResult, run_probe
from lso.ecm.drivers.linux.sat import activation_test
from tests.conftest import require
from tests.ecm.linux.test_probe import FRAME_BYTES, Hosts, hosts
from tests.harness import wait_until

__all__ = ["hosts"]  # the fixture, shared with the probe tests

CIR, EIR = 4_000_000, 2_000_000
BURST = 12_000  # bytes: twelve test frames


def flow(cir: int = CIR, eir: int = EIR, cbs: int = BURST, ebs: int = BURST) -> BandwidthProfileFlow:
    return BandwidthProfileFlow(cir=cir, cbs=cbs, eir=eir, ebs=ebs)


@pytest.fixture
def policer() -> Iterator[Policer]:
    require(support().exact, support().reason)
    exact = Policer(f"lsob{uuid.uuid4().hex[:6]}")
    yield exact
    clean(exact.prefix)


def delta(after: ColourCount, before: ColourCount) -> ColourCount:
    return ColourCount(
        green_frames=after.green_frames - before.green_frames,
        yellow_frames=after.yellow_frames - before.yellow_frames,
        red_frames=after.red_frames - before.red_frames,
        green_octets=after.green_octets - before.green_octets,
        yellow_octets=after.yellow_octets - before.yellow_octets,
        red_octets=after.red_octets - before.red_octets,
        approximate=after.approximate,
    )


def measure(policer: Policer, hosts: Hosts, rate_bps: int, seconds: float) -> tuple[ColourCount, ProbeResult]:
    before = policer.counters(hosts.z.netns)[hosts.z_if]
    probe = run_probe(hosts.a, hosts.z, rate_bps, FRAME_BYTES, seconds)
    return delta(policer.counters(hosts.z.netns)[hosts.z_if], before), probe


def program_ids(path: Path) -> tuple[int, list[int]]:
    shown = json.loads(
        subprocess.run(
            ["bpftool", "-j", "prog", "show", "pinned", str(path)], capture_output=True, check=True
        ).stdout
    )
    return shown["id"], shown["map_ids"]


def loaded(kind: str, object_id: int) -> bool:
    return (
        subprocess.run(["bpftool", kind, "show", "id", str(object_id)], capture_output=True).returncode == 0
    )


def ingress_filters(hosts: Hosts) -> str:
    done = subprocess.run(
        [
            "nsenter",
            f"--net=/run/netns/{hosts.z.netns}",
            "tc",
            "filter",
            "show",
            "dev",
            hosts.z_if,
            "ingress",
        ],
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


def test_the_kernel_profile_is_the_python_models_buckets() -> None:
    """Rates, burst sizes in 1e-9 bit and the time each bucket takes to fill, as trtcm.c reads them."""
    entry = profile_entry(BandwidthProfileFlow(cir=3_000_000, cbs=1_000, eir=0, ebs=0))
    cir, eir, committed, excess, committed_fill, excess_fill = (
        int.from_bytes(entry[i : i + 8], "little") for i in range(0, 48, 8)
    )
    assert (cir, eir) == (3_000_000, 0)
    assert committed == TwoRateThreeColourMarker(BandwidthProfile(3_000_000, 1_000)).committed_bytes() * 8e9
    assert excess == 0
    assert committed_fill == -(-1_000 * 8_000_000_000 // 3_000_000)  # ceil: full at and after this time
    assert excess_fill == 2**64 - 1  # no rate: the excess bucket never refills


def test_a_burst_is_coloured_exactly_as_the_model_colours_it(hosts: Hosts, policer: Policer) -> None:
    """Back-to-back frames against tiny rates: the buckets' sizes decide alone, to the frame."""
    profile = flow(cir=8_000, eir=8_000, cbs=10_500, ebs=5_500)  # refill: one byte a millisecond
    policer.attach(hosts.z.netns, hosts.z_if, profile)
    marker = TwoRateThreeColourMarker(BandwidthProfile(**profile.model_dump()))
    expected = [marker.mark(0, FRAME_BYTES) for _ in range(40)]

    counted, probe = measure(policer, hosts, 1_000_000_000, 40 * FRAME_BYTES * 8 / 1_000_000_000)

    assert probe.frames_sent == 40
    assert counted.green_frames == expected.count(Colour.GREEN) == 10
    assert counted.yellow_frames == expected.count(Colour.YELLOW) == 5
    assert counted.red_frames == expected.count(Colour.RED) == 25
    assert counted.green_octets == 10 * FRAME_BYTES
    assert probe.frames_received == 15  # red is dropped, green and yellow pass


def test_twice_cir_plus_eir_yields_green_at_cir_and_yellow_at_eir(hosts: Hosts, policer: Policer) -> None:
    policer.attach(hosts.z.netns, hosts.z_if, flow())
    offered = 2 * (CIR + EIR)

    counted, probe = measure(policer, hosts, offered, 4.0)

    # What MEF 10.3 makes of this stream over the span the frames actually arrived in (burst included).
    model = police_period(BandwidthProfile(CIR, BURST, EIR, BURST), offered, FRAME_BYTES, probe.duration_s)
    assert counted.green_octets == pytest.approx(model.green_octets, rel=0.05)
    assert counted.yellow_octets == pytest.approx(model.yellow_octets, rel=0.05)
    assert (counted.green_octets - BURST) * 8 / probe.duration_s == pytest.approx(CIR, rel=0.05)
    assert (counted.yellow_octets - BURST) * 8 / probe.duration_s == pytest.approx(EIR, rel=0.05)
    assert not counted.approximate
    # The counters agree with the probe: what passed arrived, what was red was lost.
    assert counted.green_frames + counted.yellow_frames == probe.frames_received
    assert counted.red_frames == probe.frames_sent - probe.frames_received
    assert counted.green_octets + counted.yellow_octets == probe.bytes_received


def test_a_live_cir_change_shows_in_the_next_measurement_and_counters_keep_counting(
    hosts: Hosts, policer: Policer
) -> None:
    policer.attach(hosts.z.netns, hosts.z_if, flow())
    first, _ = measure(policer, hosts, 2 * (CIR + EIR), 2.0)
    before_change = policer.counters(hosts.z.netns)[hosts.z_if]

    policer.attach(hosts.z.netns, hosts.z_if, flow(cir=2 * CIR))

    assert policer.counters(hosts.z.netns)[hosts.z_if] == before_change  # not reset by the change
    second, probe = measure(policer, hosts, 2 * (2 * CIR + EIR), 2.0)
    # The buckets were kept too: at most one committed burst carries over into the new measurement.
    assert second.green_octets * 8 / probe.duration_s == pytest.approx(2 * CIR, rel=0.05)
    assert first.green_octets * 8 / 2.0 == pytest.approx(CIR, rel=0.05)
    after = policer.counters(hosts.z.netns)[hosts.z_if]
    assert after.green_frames == before_change.green_frames + second.green_frames > before_change.green_frames


def test_counters_of_every_policed_interface_come_from_one_dump(hosts: Hosts, policer: Policer) -> None:
    policer.attach(hosts.z.netns, hosts.z_if, flow())
    policer.attach(hosts.a.netns, hosts.a_if, flow())  # the reverse direction, in the other namespace

    assert set(policer.counters(hosts.z.netns)) == {hosts.z_if}
    assert set(policer.counters(hosts.a.netns)) == {hosts.a_if}
    assert policer.counters("no-such-namespace-here") == {}


def test_detach_leaves_no_filter_or_map_entry(hosts: Hosts, policer: Policer) -> None:
    """The interface's filter and map entries go; the namespace's program stays for its next policer (its
    load is a bpftool process) until the namespace is cleaned."""
    policer.attach(hosts.z.netns, hosts.z_if, flow())
    pins = BPF_FS / policer.prefix / hosts.z.netns
    program, _maps = program_ids(pins / "prog")
    assert "trtcm" in ingress_filters(hosts)
    assert measure(policer, hosts, 2 * (CIR + EIR), 0.3)[0].red_frames > 0  # it polices

    policer.detach(hosts.z.netns, hosts.z_if)

    assert ingress_filters(hosts) == ""
    assert policer.counters(hosts.z.netns) == {}
    for name in ("profiles", "bucket_state", "colours"):
        dumped = subprocess.run(
            ["bpftool", "-j", "map", "dump", "pinned", str(pins / name)], capture_output=True, check=True
        )
        assert json.loads(dumped.stdout) == [], name
    probe = run_probe(hosts.a, hosts.z, 2 * (CIR + EIR), FRAME_BYTES, 0.5)
    assert probe.frames_received == probe.frames_sent  # nothing polices any more
    policer.attach(hosts.z.netns, hosts.z_if, flow())  # the next policer: same program, counters from zero
    assert program_ids(pins / "prog")[0] == program
    assert policer.counters(hosts.z.netns)[hosts.z_if] == ColourCount()


def test_clean_removes_what_a_killed_domain_left(hosts: Hosts, policer: Policer) -> None:
    policer.attach(hosts.z.netns, hosts.z_if, flow())
    program, maps = program_ids(BPF_FS / policer.prefix / hosts.z.netns / "prog")

    policer.close()  # the killed process's descriptors went with it
    clean(policer.prefix)  # a fresh process knows only the prefix

    assert not (BPF_FS / policer.prefix).exists()
    assert ingress_filters(hosts) == ""
    wait_until(lambda: not loaded("prog", program) and not any(loaded("map", m) for m in maps), timeout=10)


def test_activation_test_passes_through_a_policed_uni(hosts: Hosts, policer: Policer) -> None:
    policer.attach(hosts.z.netns, hosts.z_if, flow())

    result = activation_test(
        hosts.a,
        hosts.z,
        CIR,
        EIR,
        Acceptance(),
        green=lambda: policer.counters(hosts.z.netns)[hosts.z_if].green_octets,
    )

    steps = {step["step"]: step for step in result["configurationTest"]}
    assert list(steps) == ["cir-25%", "cir-50%", "cir-75%", "cir-100%", "cir+eir", "policing"]
    assert steps["cir-100%"]["frameLossRatio"] == 0
    assert steps["policing"]["frameLossRatio"] > 0  # over CIR+EIR the profile really drops
    assert steps["policing"]["deliveredBps"] <= (CIR + EIR) * 1.05
    assert steps["policing"]["greenBps"] >= CIR * 0.95
    assert result["performanceTest"]["frameLossRatio"] == 0
    assert result["passed"] is True


def test_activation_test_fails_when_the_profile_is_below_the_ordered_rate(
    hosts: Hosts, policer: Policer
) -> None:
    policer.attach(hosts.z.netns, hosts.z_if, flow(cir=CIR // 2, eir=0, ebs=0))

    result = activation_test(hosts.a, hosts.z, CIR, EIR, Acceptance(), step_s=0.5, performance_s=0.5)

    assert result["passed"] is False
    assert result["performanceTest"]["passed"] is False  # frames at CIR are lost


def test_nftables_fallback_polices_approximately(hosts: Hosts) -> None:
    require(
        subprocess.run(["nft", "--version"], capture_output=True).returncode == 0, "nftables is not installed"
    )
    fallback = Policer(f"lsob{uuid.uuid4().hex[:6]}", exact=False)
    try:
        fallback.attach(hosts.z.netns, hosts.z_if, flow())
        before = fallback.counters(hosts.z.netns)[hosts.z_if]
        probe = run_probe(hosts.a, hosts.z, 2 * (CIR + EIR), FRAME_BYTES, 2.0)
        counted = delta(fallback.counters(hosts.z.netns)[hosts.z_if], before)

        assert counted.approximate
        assert counted.green_frames + counted.yellow_frames == probe.frames_received
        assert counted.red_frames == probe.frames_sent - probe.frames_received > 0
        # nftables' byte limit holds a second of its rate on top of the burst, so it lets more through
        # than MEF's buckets at first: at least CIR+EIR, at most a second of it more.
        rate_bytes = (CIR + EIR) / 8
        assert rate_bytes * probe.duration_s * 0.95 <= probe.bytes_received
        assert probe.bytes_received <= (rate_bytes * (probe.duration_s + 1) + 2 * BURST) * 1.05
        fallback.attach(hosts.z.netns, hosts.z_if, flow(cir=2 * CIR))  # live change keeps the counters
        assert (
            fallback.counters(hosts.z.netns)[hosts.z_if].green_frames
            == before.green_frames + counted.green_frames
        )
    finally:
        clean(fallback.prefix)
    listed = subprocess.run(
        ["nsenter", f"--net=/run/netns/{hosts.z.netns}", "nft", "list", "tables"],
        capture_output=True,
        text=True,
    )
    assert fallback.prefix not in listed.stdout


@pytest.mark.parametrize("rate_bps", [CIR, 100_000_000])
def test_the_probe_sends_at_exactly_its_rate_so_a_small_cbs_passes_it_all(
    hosts: Hosts, policer: Policer, rate_bps: int
) -> None:
    """The kernel paces the probe (a TBF with a burst of two frames, departure timestamps): offered at
    exactly CIR, even at the demo's 100 Mbit/s on a busy host, nothing exceeds a CBS of twelve frames —
    two for the shaper's burst, the rest for the host's jitter between shaper and policer (0.8 ms at
    100 Mbit/s). Paced by the application alone, its catch-up bursts exceed it. A host too busy to keep
    up sends later, never faster: so the departures are bounded per interval, not the run's length."""
    policer.attach(hosts.z.netns, hosts.z_if, flow(cir=rate_bps, eir=0, cbs=BURST, ebs=0))

    counted, probe = measure(policer, hosts, rate_bps, 1.0)

    assert probe.shaped
    assert probe.frames_sent == rate_bps // (8 * FRAME_BYTES)
    assert counted.red_frames == 0
    assert probe.frames_received == probe.frames_sent
    allowed = rate_bps * probe.interval_s / (8 * FRAME_BYTES) + BURST / FRAME_BYTES
    assert max(interval.sent for interval in probe.timeline) <= allowed
