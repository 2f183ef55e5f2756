"""Order floor: what an order's flow costs in framework work alone, and the orders/s that caps.

Counts what one on-net EPL order makes the domain do — HTTP requests (between its entities, and with the
customer), DBOS workflows, steps, child workflows and durable waits — over ``--orders`` orders placed one
after another on a one-process demo domain (SQLite), and measures their real CPU per order. Then it prices
each count at what it costs with nothing inside: the DBOS figures of ``checkpoint_cost.py``, and for a
request the domain's cheapest one (``GET /health``: no authentication, no database), client side included.
The sum is a floor under an order's CPU whatever the application does, so ``cores × 1000 / floor`` caps the
orders/s of this flow on this machine. The JSON result goes to benchmarks/results/. Run:
``.venv/bin/python benchmarks/order_floor.py``.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

import checkpoint_cost
from lso import demo
from lso.customer.cantata_client import CantataClient
from lso.customer.order_watch import watching
from lso.domain import DEMO_CUSTOMERS
from lso.settings import Settings
from report import machine, write_result
from request_cost import Call, measure

ORDER_TIMEOUT_S = 120.0
PRICES = {
    "HTTP request": None,  # measured on the domain itself, below
    "workflow started": "workflow started (start_workflow), no step",
    "child workflow started and run": "child workflow started from a workflow, run",
    "step": "step (no work inside)",
    "message received (recv), and its send": "send, and the started workflow's recv",
}

# What the system database holds, by kind. A recv writes a DBOS.sleep (its durable deadline) as well as its
# own row; both are in the recv's price, so the sleep is not counted as a step. A recv still waiting (the
# SLS loop's) has written only its sleep: it is left out, which keeps the sum a floor.
_DBOS_COUNTS = {
    "workflow started": "SELECT count(*) FROM workflow_status WHERE parent_workflow_id IS NULL",
    "child workflow started and run": "SELECT count(*) FROM workflow_status"
    " WHERE parent_workflow_id IS NOT NULL",
    "step": "SELECT count(*) FROM operation_outputs WHERE child_workflow_id IS NULL"
    " AND function_name NOT IN ('DBOS.recv', 'DBOS.sleep')",
    "message received (recv), and its send": "SELECT count(*) FROM operation_outputs"
    " WHERE function_name = 'DBOS.recv'",
}


@contextmanager
def counting_requests() -> Iterator[list[int]]:
    """Count every request an httpx client of this process sends (all of a one-process domain's, and its
    customer's) while the block runs: the count is the list's one element."""
    count = [0]
    send = httpx.Client.send

    def counted(self: httpx.Client, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        count[0] += 1
        return send(self, request, **kwargs)

    httpx.Client.send = counted  # type: ignore[method-assign]
    try:
        yield count
    finally:
        httpx.Client.send = send  # type: ignore[method-assign]


def _dbos_counts(system_database: Path) -> dict[str, int]:
    with sqlite3.connect(system_database) as db:
        return {kind: int(db.execute(sql).fetchone()[0]) for kind, sql in _DBOS_COUNTS.items()}


def _count_orders(orders: int, requests: int) -> tuple[dict[str, float], float, float]:
    """(counts per order by kind, CPU ms per order, CPU ms of one GET /health) on a one-process domain."""
    with (
        tempfile.TemporaryDirectory(prefix="lso-bench-", ignore_cleanup_errors=True) as tmp,
        # a deployment's SLS period (the demo's 2 s would add assessment runs to the orders' counts)
        demo.provider_domain(Path(tmp), 0, sls_period_s=Settings.sls_period_s) as (settings, _pids),
    ):
        system_database = Path(tmp) / "dbos.sqlite"
        client = CantataClient(settings.base_url, "acme", DEMO_CUSTOMERS["acme"])
        offerings = demo.Offerings.from_catalog(client.list_product_offerings())
        site_ids = [site.id for site in demo.demo_footprint().sites]
        pairs = list(itertools.islice(itertools.cycle(itertools.combinations(site_ids, 2)), orders + 1))
        with watching(client) as watch:
            _place(client, watch, pairs[0], offerings)  # warm-up: tokens, hubs, connections, caches
            before = _dbos_counts(system_database)
            started = time.process_time()
            with counting_requests() as sent:
                for pair in pairs[1:]:
                    _place(client, watch, pair, offerings)
            cpu_ms = (time.process_time() - started) * 1000 / orders
            after = _dbos_counts(system_database)
        with httpx.Client(base_url=settings.base_url) as plain:
            health_ms, _wall = measure(plain, Call("GET /health", "", "GET", "/health"), requests)
        client.close()
    counts = {kind: (after[kind] - before[kind]) / orders for kind in after}
    return {"HTTP request": sent[0] / orders, **counts}, cpu_ms, health_ms


def _place(client: CantataClient, watch: Any, sites: tuple[str, str], offerings: demo.Offerings) -> None:
    created = demo.order(client, "acme", sites, offerings)
    state = watch.wait(created["id"], timeout=ORDER_TIMEOUT_S)
    if state != "completed":
        raise SystemExit(f"order {created['id']} ended {state!r}, not completed: no floor to price")


def run(orders: int, repeat: int) -> dict[str, Any]:
    if os.environ.get("LSO_DATABASE_URL"):
        raise SystemExit("the floor is priced on the embedded SQLite system database: unset LSO_DATABASE_URL")
    dbos_ms = checkpoint_cost.run(repeat)["cpu_ms"]
    counts, cpu_ms, health_ms = _count_orders(orders, repeat)
    prices = {kind: health_ms if name is None else dbos_ms[name] for kind, name in PRICES.items()}
    floor_ms = sum(counts[kind] * prices[kind] for kind in PRICES)
    cores = os.cpu_count() or 1
    return {
        "benchmark": "order_floor",
        "date": datetime.now(UTC).isoformat(),
        "machine": machine(),
        "orders": orders,
        "per_order": {
            kind: {"count": round(counts[kind], 2), "cpu_ms_each": round(prices[kind], 3)} for kind in PRICES
        },
        "floor_cpu_ms_per_order": round(floor_ms, 1),
        "measured_cpu_ms_per_order": round(cpu_ms, 1),
        "cores": cores,
        "floor_caps_orders_per_s": round(cores * 1000 / floor_ms, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--orders", type=int, default=20, help="orders counted, one after another")
    parser.add_argument("--repeat", type=int, default=200, help="runs of each priced checkpoint and request")
    args = parser.parse_args()
    result = run(args.orders, args.repeat)
    table = Table(title=f"What one EPL order costs before any application work ({args.orders} orders)")
    for column in ("per order", "count", "CPU ms each", "CPU ms"):
        table.add_column(column, justify="left" if column == "per order" else "right")
    for kind, row in result["per_order"].items():
        each = row["cpu_ms_each"]
        table.add_row(kind, f"{row['count']:.2f}", f"{each:.2f}", f"{row['count'] * each:.1f}")
    table.add_row("floor", "", "", f"{result['floor_cpu_ms_per_order']:.1f}", style="bold")
    measured = f"{result['measured_cpu_ms_per_order']:.1f}"
    table.add_row("measured (one process, with the customer)", "", "", measured)
    console = Console()
    console.print(table)
    console.print(
        f"the floor caps this flow at {result['floor_caps_orders_per_s']} orders/s on {result['cores']} cores"
    )
    console.print(f"written {write_result('order_floor', result)}")


if __name__ == "__main__":
    main()
