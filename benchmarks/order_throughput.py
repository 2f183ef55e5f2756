"""Order throughput: N EPL product orders through CANTATA, POST to ``completed``.

Starts a demo domain (SQLite in a temp dir, or PostgreSQL when LSO_DATABASE_URL is set) spread over
``--processes`` (3 by default: BUS in this process, SOF and ICM with ECM in children) on the ``sim``
network or, with ``--network linux`` (root), on the linux data plane, where every order's activation test
really sends its 100 Mbit/s for about eight seconds; places the orders from ``--concurrency`` threads
through the customer SDK, waits for each to finish and prints orders/s with the p50/p95/p99 time from POST
to ``completed``. With ``--offnet`` every order is an off-net EPL: a partner
domain (``lso serve --demo --footprint partner``, a child process with its own database) is started and
on-boarded, and each order's far UNI is at the partner's Paris address, so the provider buys the partner's
share over SONATA for every order. The JSON result goes to benchmarks/results/. Run:
``.venv/bin/python benchmarks/order_throughput.py --orders 200``,
``.venv/bin/python benchmarks/order_throughput.py --offnet --orders 100`` or
``.venv/bin/python benchmarks/order_throughput.py --network linux --orders 10 --concurrency 2``.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from lso import demo, demo_offnet
from lso.customer.cantata_client import CantataClient
from lso.customer.order_watch import OrderWatch, watching
from lso.domain import DEMO_CUSTOMERS
from lso.ecm.drivers.linux import capabilities
from lso.launch import PROCESS_LAYOUTS
from lso.settings import Settings
from report import machine, write_result

ORDER_TIMEOUT_S = 600.0


def _one_order(
    client: CantataClient,
    watch: OrderWatch,
    sites: tuple[str, str],
    offerings: demo.Offerings,
    offnet: bool = False,
) -> tuple[str, float]:
    """Place one EPL order and wait for the seller's notification of its end state; (state, seconds from
    POST to that notification). Notifications, not polling: polling would load the seller it measures."""
    started = time.monotonic()
    if offnet:
        created = demo_offnet.offnet_epl_order(client, "acme", offerings, cir_mbps=10)
    else:
        created = demo.order(client, "acme", sites, offerings)
    state = watch.wait(created["id"], timeout=ORDER_TIMEOUT_S) or "no notification"
    return state, time.monotonic() - started


def _cpu_s(pids: list[int]) -> float:
    """CPU seconds (user and system) the processes ``pids`` have used so far."""
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15 of proc(5)
    return ticks / os.sysconf("SC_CLK_TCK")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def run(
    orders: int,
    concurrency: int,
    network: str = "sim",
    offnet: bool = False,
    sls_period_s: float = Settings.sls_period_s,
    processes: int = 3,
) -> dict[str, object]:
    with (
        # background work still winding down may write a file as the directory is removed: not a result
        tempfile.TemporaryDirectory(prefix="lso-bench-", ignore_cleanup_errors=True) as tmp,
        demo.provider_domain(Path(tmp), 0, network, sls_period_s, processes) as (s, pids),
        ExitStack() as partner,
    ):
        if offnet:
            seller = partner.enter_context(demo_offnet.partner_domain(Path(tmp) / "partner"))
            if demo_offnet.onboard(s, seller)["state"] != "active":
                raise SystemExit(f"the partner was not on-boarded; see {Path(tmp) / 'partner'}")
        client = CantataClient(s.base_url, "acme", DEMO_CUSTOMERS["acme"])
        offerings = demo.Offerings.from_catalog(client.list_product_offerings())
        site_ids = [site.id for site in demo.demo_footprint().sites]
        pairs = list(itertools.islice(itertools.cycle(itertools.combinations(site_ids, 2)), orders))
        with watching(client) as watch, ThreadPoolExecutor(max_workers=concurrency) as pool:
            started, cpu_started = time.monotonic(), _cpu_s(pids)
            results = list(pool.map(lambda pair: _one_order(client, watch, pair, offerings, offnet), pairs))
            elapsed, cpu = time.monotonic() - started, _cpu_s(pids) - cpu_started
        client.close()
    completed = [seconds for state, seconds in results if state == "completed"]
    return {
        "benchmark": "order_throughput",
        "date": datetime.now(UTC).isoformat(),
        "database": "postgresql" if os.environ.get("LSO_DATABASE_URL") else "sqlite",
        "network": network,
        "offnet": offnet,
        "sls_period_s": sls_period_s,
        "machine": machine(),
        "processes": processes,
        "orders": orders,
        "concurrency": concurrency,
        "completed": len(completed),
        "not_completed": {
            state: sum(1 for s, _ in results if s == state) for state, _ in results if state != "completed"
        },
        "elapsed_s": round(elapsed, 3),
        "orders_per_s": round(len(completed) / elapsed, 3),
        # CPU of the domain's processes (this one with the customer) per order: what the load of the
        # machine does not change much, unlike orders/s; a partner domain's CPU is not included
        "cpu_ms_per_order": round(cpu * 1000 / max(1, len(completed))),
        "p50_s": round(statistics.median(completed), 3) if completed else None,
        "p95_s": round(_percentile(completed, 0.95), 3) if completed else None,
        "p99_s": round(_percentile(completed, 0.99), 3) if completed else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--network", choices=("sim", "linux"), default="sim")
    parser.add_argument("--offnet", action="store_true", help="off-net EPLs, with a partner domain")
    parser.add_argument(
        "--processes",
        type=int,
        choices=sorted(PROCESS_LAYOUTS),
        default=3,
        help="how many processes serve the provider: 1, 2 (BUS | SOF, ICM, ECM) or 3 (BUS | SOF | ICM, ECM)",
    )
    parser.add_argument(
        "--sls-period",
        type=float,
        default=Settings.sls_period_s,
        help="seconds between SLS assessments of each active EVC (a deployment's default; the demo uses 2)",
    )
    args = parser.parse_args()
    if args.network == "linux":
        found = capabilities.detect()
        if not found.ok:
            raise SystemExit(found.explain())
    result = run(args.orders, args.concurrency, args.network, args.offnet, args.sls_period, args.processes)
    kind = "Off-net EPL" if args.offnet else "EPL"
    table = Table(
        title=f"{kind} order throughput ({result['database']}, {args.network} network, "
        f"{args.processes} processes, concurrency {args.concurrency})"
    )
    columns = {
        "orders": "orders",
        "completed": "completed",
        "orders/s": "orders_per_s",
        "p50 s": "p50_s",
        "p95 s": "p95_s",
        "p99 s": "p99_s",
        "CPU ms/order": "cpu_ms_per_order",
    }
    for column in columns:
        table.add_column(column, justify="right")
    table.add_row(*(str(result[key]) for key in columns.values()))
    Console().print(table)
    Console().print(f"written {write_result('order_throughput', result)}")
    raise SystemExit(0 if result["completed"] == args.orders else 1)


if __name__ == "__main__":
    main()
