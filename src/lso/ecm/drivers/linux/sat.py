"""A Y.1564-style service activation test that really sends frames between two customer-edge hosts.

The configuration test offers the service stepwise up to CIR (25, 50, 75, 100 %), then at CIR+EIR, then
above it (the policing step, 125 % of CIR+EIR); the performance test then runs at CIR and checks delay,
delay variation and loss against the acceptance criteria. The result has the shape of the ``sim``
driver's (lso/ecm/oam.py), so ADAGIO, SOF and the customer see one kind of test result.

Rates delivered are taken from the probe's timeline over the second half of each step, when the
buckets' initial burst (CBS, EBS) has drained and the steady rate shows. Green is read from the UNI's
colour counters when the caller passes them; without counters a step reports no green rate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lso.ecm.drivers import Acceptance, Document
from lso.ecm.drivers.linux.probe import Endpoint, ProbeResult, run_probe

# Full-size frames (1500-byte Ethernet frames within the CE host's 1500-byte MTU): the fewer frames a
# step needs, the surer a busy host generates its rate.
TEST_FRAME_BYTES = 1500
STEP_S = 1.0
PERFORMANCE_S = 3.0
# A measured rate within this fraction of its target passes (the kernel shapes the probe and polices
# exactly, but a step is short: a few frames either side of a second half-interval show).
RATE_TOLERANCE = 0.05
CIR_SHARES = (25, 50, 75, 100)
# A run whose sender could not keep its rate (a host busy with other work) measured the host, not the
# service: it is run again, up to this many times in all, and the last run is judged.
ATTEMPTS = 3

GreenBytes = Callable[[], int]


@dataclass(frozen=True)
class Step:
    """One configuration test step: what is offered and the rates that must hold."""

    name: str
    offered_bps: int
    min_green_bps: float  # 0: no green rate is required
    max_delivered_bps: float
    loss_counts: bool  # below CIR every frame must arrive; above it the profile drops on purpose


def configuration_steps(cir: int, eir: int) -> list[Step]:
    steps = [
        Step(f"cir-{share}%", cir * share // 100, cir * share / 100, cir * share / 100, True)
        for share in CIR_SHARES
    ]
    if eir > 0:
        steps.append(Step("cir+eir", cir + eir, cir, cir + eir, False))
    steps.append(Step("policing", (cir + eir) * 5 // 4, cir, cir + eir, False))
    return steps


def activation_test(
    a: Endpoint,
    z: Endpoint,
    cir: int,
    eir: int,
    acceptance: Acceptance,
    *,
    green: GreenBytes | None = None,
    step_s: float = STEP_S,
    performance_s: float = PERFORMANCE_S,
) -> Document:
    """Run the configuration test steps, then the performance test; ``passed`` by ``acceptance``.

    ``green`` reads the green byte counter of the A-end UNI's ingress profile (Policer.counters).
    """
    steps = [run_step(step, a, z, acceptance, green, step_s) for step in configuration_steps(cir, eir)]
    performance = generated(a, z, cir, performance_s)
    delay = performance.delay
    performance_passed = (
        delay is not None
        and delay.mean_ms <= acceptance.frameDelayMs
        and performance.delay_variation_ms <= acceptance.frameDelayVariationMs
        and performance.loss_ratio <= acceptance.frameLossRatio
    )
    return {
        "configurationTest": steps,
        "performanceTest": {
            "frameDelayMs": round(delay.mean_ms, 4) if delay else None,
            "frameDelayVariationMs": round(performance.delay_variation_ms, 4),
            "frameLossRatio": round(performance.loss_ratio, 6),
            "throughputBps": round(performance.throughput_bps),
            "frameDelay": delay.wire() if delay else None,
            "passed": performance_passed,
        },
        "passed": performance_passed and all(step["passed"] for step in steps),
    }


def run_step(
    step: Step, a: Endpoint, z: Endpoint, acceptance: Acceptance, green: GreenBytes | None, step_s: float
) -> Document:
    for _attempt in range(ATTEMPTS):
        before = green() if green else 0
        probe = run_probe(a, z, step.offered_bps, TEST_FRAME_BYTES, step_s)
        if kept_its_rate(probe):
            break
    green_bps = (green() - before) * 8 / probe.duration_s if green else None
    delivered_bps = steady_delivered_bps(probe)
    passed = delivered_bps <= step.max_delivered_bps * (1 + RATE_TOLERANCE)
    if step.loss_counts:
        passed = passed and probe.loss_ratio <= acceptance.frameLossRatio
    if green_bps is not None:
        passed = passed and green_bps >= step.min_green_bps * (1 - RATE_TOLERANCE)
    result: Document = {
        "step": step.name,
        "offeredBps": step.offered_bps,
        "deliveredBps": round(delivered_bps),
        "frameLossRatio": round(probe.loss_ratio, 6),
        "passed": passed,
    }
    if green_bps is not None:
        result["greenBps"] = round(green_bps)
    return result


def generated(a: Endpoint, z: Endpoint, rate_bps: int, seconds: float) -> ProbeResult:
    """A probe run at ``rate_bps`` whose sender kept that rate, if one of :data:`ATTEMPTS` did."""
    for _attempt in range(ATTEMPTS):
        probe = run_probe(a, z, rate_bps, TEST_FRAME_BYTES, seconds)
        if kept_its_rate(probe):
            break
    return probe


def kept_its_rate(probe: ProbeResult) -> bool:
    """Whether the frames left at the offered rate (within tolerance) — what the network was tested with."""
    return probe.bytes_sent * 8 / probe.duration_s >= probe.offered_bps * (1 - RATE_TOLERANCE)


def steady_delivered_bps(probe: ProbeResult) -> float:
    """The delivered rate over the second half of the run, after the initial burst."""
    steady = probe.timeline[len(probe.timeline) // 2 :]
    seconds = len(steady) * probe.interval_s
    received = sum(interval.received for interval in steady)
    return received * probe.frame_bytes * 8 / seconds if seconds else 0.0
