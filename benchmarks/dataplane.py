"""Data-plane setup and teardown time per EVC on the ``linux`` driver, for 10, 50 and 200 EVCs.

Each EVC is an EPL over three elements (PE — P — PE, two UNIs with their customer-edge hosts and policers,
two VXLAN hops), configured and removed directly on the driver the way ICM drives it over ADAGIO: one
configure per element to set it up, one unconfigure per element to tear it down. "kernel" is the time the
kernel thread works (netlink: bridges, VXLANs, taking ready CE hosts; in setup also the policers),
"policer" the eBPF (or nftables) policer's part of it, "model" the persisted model (the ``sim`` driver's
configuration rows, one transaction per call). A configure writes the model while the kernel thread
works, so setup is about the larger of the two, not their sum. "CPU" is the process's CPU time (user +
system, every thread, the pool thread preparing CE hosts included) per EVC: unlike the wall-clock
figures it hardly moves with the load of a shared machine, reported as the load average. An unconfigure
returns once the service no longer forwards; its interfaces and policers are removed right after on the
kernel thread, its interfaces deleted by its reaper in batches and its CE namespaces by the mounter
thread: "until removed" counts until that is done. Setup's CPU is also split by thread ("caller": the
configure calls and the model, "kernel", "hosts": the pool thread, "mounts"), to show which one a change
relieves when the wall-clock figures are lost in the load. The driver is started (links built, each UNI
element's policer program loaded, CE hosts made ready) before the clock starts, as a domain is before
ICM's calls.
Targets: ≤ 15 ms setup and ≤ 25 ms teardown per EVC. Needs root; the JSON result goes to
benchmarks/results/. Run: ``.venv/bin/python benchmarks/dataplane.py [--evcs 10 50 200]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from rich.console import Console
from rich.table import Table

from lso.db import Database, migrate
from lso.ecm.drivers import BandwidthProfileFlow, ElementConfiguration, UniPortConfiguration
from lso.ecm.drivers.linux import capabilities, lab
from lso.ecm.drivers.linux.driver import LinuxDriver
from lso.ecm.drivers.sim import seed
from lso.footprint import demo_footprint
from report import write_result

SETUP_TARGET_MS, TEARDOWN_TARGET_MS = 15.0, 25.0
# Disjoint PE — P — PE paths of the demo footprint; EVC i takes path i % 3 and UNI uni-(i // 3 + 1).
PATHS = (
    ("pe-ldn-1", "p-ldn", "pe-ldn-2"),
    ("pe-bri-1", "p-bir", "pe-bir-1"),
    ("pe-man-1", "p-man", "pe-lds-1"),
)
PROFILE = BandwidthProfileFlow(cir=100_000_000, cbs=200_000, eir=0, ebs=0)
T = TypeVar("T")


class Clock:
    """Time spent inside wrapped functions, by name."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {"kernel": 0.0, "policer": 0.0, "model": 0.0}

    def wrap(self, name: str, fn: Callable[..., T]) -> Callable[..., T]:
        def timed(*args: Any, **kwargs: Any) -> T:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.spent[name] += time.perf_counter() - started

        return timed


@contextmanager
def linux_driver(tmp: Path) -> Iterator[LinuxDriver]:
    url = f"sqlite:///{tmp / 'ecm.db'}"
    migrate(url)
    db = Database(url)
    with db.session() as session:
        seed(session, demo_footprint())
    prefix = f"lsob{uuid.uuid4().hex[:4]}"
    driver = LinuxDriver(db, prefix, dispatch=lambda _ids: None)
    try:
        driver.start()
        if not driver.kernel.hosts_ready(timeout=60):
            raise SystemExit("the CE hosts kept ready were not made within 60 s")
        yield driver
    finally:
        driver.stop()
        lab.clean(prefix)
        db.dispose()


def _configurations(i: int) -> list[tuple[str, ElementConfiguration]]:
    path, port = PATHS[i % len(PATHS)], f"uni-{i // len(PATHS) + 1}"
    result = []
    for k, element in enumerate(path):
        peers = [path[j] for j in (k - 1, k + 1) if 0 <= j < len(path)]
        unis = [UniPortConfiguration(port=port, ingressBandwidthProfile=PROFILE)] if k != 1 else []
        result.append((element, ElementConfiguration(vni=10_000 + i, uniPorts=unis, nniPeers=peers)))
    return result


THREADS = {"kernel": "-kernel", "hosts": "-hosts", "mounts": "-mounts"}  # the driver's threads, by name


def thread_cpu() -> dict[str, float]:
    """CPU time (s) of the calling thread ("caller") and of the driver's threads, by role."""
    spent = {"caller": time.thread_time()}
    for thread in threading.enumerate():
        role = next((r for r, part in THREADS.items() if part in thread.name), None)
        if role is not None and thread.ident is not None:
            spent[role] = time.clock_gettime(time.pthread_getcpuclockid(thread.ident))
    return spent


def _per_evc_ms(total_s: float, evcs: int) -> float:
    return round(total_s * 1000 / evcs, 2)


def run(evcs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="lso-dataplane-") as tmp, linux_driver(Path(tmp)) as driver:
        clock = Clock()
        # Count the kernel thread's work and the policer's, as the driver calls them.
        driver.kernel._on_thread = clock.wrap("kernel", driver.kernel._on_thread)  # type: ignore[method-assign]
        for method in ("attach", "detach"):
            setattr(driver.policer, method, clock.wrap("policer", getattr(driver.policer, method)))
        for method in ("configure", "unconfigure"):
            setattr(driver.model, method, clock.wrap("model", getattr(driver.model, method)))
        setup: list[float] = []
        cpu, threads = time.process_time(), thread_cpu()
        for i in range(evcs):
            started = time.perf_counter()
            for element, config in _configurations(i):
                driver.configure(element, f"evc-{i}", config)
            setup.append(time.perf_counter() - started)
        setup_split = dict(clock.spent)
        threads = {role: spent - threads.get(role, 0.0) for role, spent in thread_cpu().items()}
        setup_cpu, cpu = time.process_time() - cpu, time.process_time()
        clock.spent = {"kernel": 0.0, "policer": 0.0, "model": 0.0}
        teardown: list[float] = []
        all_started = time.perf_counter()
        for i in range(evcs):
            started = time.perf_counter()
            for element, _config in _configurations(i):
                driver.unconfigure(element, f"evc-{i}")
            teardown.append(time.perf_counter() - started)
        driver.kernel.settle()
        teardown_done = time.perf_counter() - all_started
        teardown_split = dict(clock.spent)
        teardown_cpu = time.process_time() - cpu
    return {
        "evcs": evcs,
        "setup_ms_per_evc": _per_evc_ms(sum(setup), evcs),
        "setup_p95_ms": round(sorted(setup)[int(0.95 * (evcs - 1))] * 1000, 2),
        "setup_kernel_ms_per_evc": _per_evc_ms(setup_split["kernel"], evcs),
        "setup_policer_ms_per_evc": _per_evc_ms(setup_split["policer"], evcs),
        "setup_model_ms_per_evc": _per_evc_ms(setup_split["model"], evcs),
        "setup_cpu_ms_per_evc": _per_evc_ms(setup_cpu, evcs),
        "setup_cpu_ms_per_evc_by_thread": {role: _per_evc_ms(spent, evcs) for role, spent in threads.items()},
        "teardown_ms_per_evc": _per_evc_ms(sum(teardown), evcs),
        "teardown_p95_ms": round(sorted(teardown)[int(0.95 * (evcs - 1))] * 1000, 2),
        "teardown_done_ms_per_evc": _per_evc_ms(teardown_done, evcs),
        "teardown_kernel_ms_per_evc": _per_evc_ms(teardown_split["kernel"], evcs),
        "teardown_policer_ms_per_evc": _per_evc_ms(teardown_split["policer"], evcs),
        "teardown_model_ms_per_evc": _per_evc_ms(teardown_split["model"], evcs),
        "teardown_cpu_ms_per_evc": _per_evc_ms(teardown_cpu, evcs),
        "load_average": round(os.getloadavg()[0], 2),
        "setup_median_ms": round(statistics.median(setup) * 1000, 2),
        "teardown_median_ms": round(statistics.median(teardown) * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--evcs", type=int, nargs="+", default=[10, 50, 200])
    args = parser.parse_args()
    found = capabilities.detect()
    if not found.ok:
        raise SystemExit(found.explain())
    rows = [run(n) for n in args.evcs]
    table = Table(
        title=f"linux data plane, per EVC (targets: setup ≤ {SETUP_TARGET_MS} ms, teardown ≤ "
        f"{TEARDOWN_TARGET_MS} ms)"
    )
    columns = {
        "EVCs": "evcs",
        "setup ms": "setup_ms_per_evc",
        "p95": "setup_p95_ms",
        "kernel": "setup_kernel_ms_per_evc",
        "policer": "setup_policer_ms_per_evc",
        "model": "setup_model_ms_per_evc",
        "CPU": "setup_cpu_ms_per_evc",
        "by thread": "setup_cpu_by_thread",
        "teardown ms": "teardown_ms_per_evc",
        "p95 ": "teardown_p95_ms",
        "kernel ": "teardown_kernel_ms_per_evc",
        "model ": "teardown_model_ms_per_evc",
        "CPU ": "teardown_cpu_ms_per_evc",
        "until removed": "teardown_done_ms_per_evc",
        "load": "load_average",
    }
    for column in columns:
        table.add_column(column, justify="right")
    for row in rows:
        by_thread = row["setup_cpu_ms_per_evc_by_thread"]
        cells = {
            **row,
            "setup_cpu_by_thread": "/".join(str(by_thread.get(r, 0.0)) for r in ("caller", *THREADS)),
        }
        table.add_row(*(str(cells[key]) for key in columns.values()))
    Console().print(table)
    for note in found.notes:
        Console().print(f"note: {note}")
    result = {
        "benchmark": "dataplane",
        "date": datetime.now(UTC).isoformat(),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "policer": "approximate (nftables)" if found.notes else "exact (eBPF)",
        "targets_ms": {"setup": SETUP_TARGET_MS, "teardown": TEARDOWN_TARGET_MS},
        "runs": rows,
    }
    Console().print(f"written {write_result('dataplane', result)}")


if __name__ == "__main__":
    main()
