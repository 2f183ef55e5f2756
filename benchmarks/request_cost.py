"""Request cost: CPU and wall milliseconds of one HTTP request inside a domain, client side included.

An order is some thirty requests between this domain's own entities (LEGATO, PRESTO, ADAGIO and
notifications), so what one request costs the domain's process — routing, authentication, handler,
serialisation and the httpx client — is a floor under the CPU of every order. Starts a demo domain in this
process (SQLite in a temp dir), sends ``--requests`` of each representative call one after another through
the same authenticated httpx clients the entities use, and prints the CPU ms (this process: server and
client) and wall ms per request. The JSON result goes to benchmarks/results/. Run:
``.venv/bin/python benchmarks/request_cost.py --requests 300``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from lso import demo
from lso.domain import DEMO_CUSTOMERS
from lso.mef.client import authenticated
from lso.security.tokens import internal_secret
from report import machine, write_result

WARM_UP = 20
"""Requests sent before measuring: the first ones buy tokens, open connections and fill caches."""


@dataclass(frozen=True)
class Call:
    """One representative request: who sends it (an entity, or a customer) and what it asks."""

    name: str
    client_id: str
    method: str
    path: str
    body: dict[str, object] | None = None


def _calls(first_element: str) -> list[Call]:
    return [
        Call(
            "LEGATO GET service list (BUS→SOF)",
            "lso-bus",
            "GET",
            "/mefApi/legato/serviceInventory/v7/service",
        ),
        Call(
            "PRESTO POST get-connectivity-service-list (SOF→ICM)",
            "lso-sof",
            "POST",
            "/restconf/operations/get-connectivity-service-list/",
            {"input": {}},
        ),
        Call("ADAGIO GET element (ICM→ECM)", "lso-icm", "GET", f"/adagio/v1/elements/{first_element}"),
        Call(
            "CANTATA GET productOffering list (customer)",
            "acme",
            "GET",
            "/mefApi/cantata/productCatalog/v4/productOffering",
        ),
        Call("GET /health (no authentication)", "lso-bus", "GET", "/health"),
    ]


def measure(client: httpx.Client, call: Call, requests: int) -> tuple[float, float]:
    """(CPU ms, wall ms) per request of ``requests`` of ``call`` sent one after another."""

    def send() -> None:
        client.request(call.method, call.path, json=call.body).raise_for_status()

    for _ in range(WARM_UP):
        send()
    started, cpu_started = time.perf_counter(), time.process_time()
    for _ in range(requests):
        send()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return cpu * 1000 / requests, wall * 1000 / requests


def _idle_cpu_ms_per_s(seconds: float = 2.0) -> float:
    """CPU the idle domain spends on its own (background loops): a floor to read the figures against."""
    started, cpu_started = time.perf_counter(), time.process_time()
    time.sleep(seconds)
    return (time.process_time() - cpu_started) * 1000 / (time.perf_counter() - started)


def run(requests: int) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="lso-bench-", ignore_cleanup_errors=True) as tmp,
        demo.provider_domain(Path(tmp), 0) as (settings, _),
    ):
        secrets = {
            **DEMO_CUSTOMERS,
            **{f"lso-{name}": internal_secret(settings.jwt_secret, name) for name in ("bus", "sof", "icm")},
        }
        clients = {cid: authenticated(settings.base_url, cid, secret) for cid, secret in secrets.items()}
        try:
            elements = clients["lso-icm"].get("/adagio/v1/elements").raise_for_status().json()
            idle = _idle_cpu_ms_per_s()
            rows = []
            for call in _calls(elements[0]["id"]):
                cpu_ms, wall_ms = measure(clients[call.client_id], call, requests)
                rows.append({"call": call.name, "cpu_ms": round(cpu_ms, 3), "wall_ms": round(wall_ms, 3)})
        finally:
            for client in clients.values():
                client.close()
    return {
        "benchmark": "request_cost",
        "date": datetime.now(UTC).isoformat(),
        "machine": machine(),
        "requests_per_call": requests,
        "idle_cpu_ms_per_s": round(idle, 2),
        "calls": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=300, help="measured requests of each call")
    args = parser.parse_args()
    result = run(args.requests)
    table = Table(title=f"Cost of one request ({args.requests} of each, sequential, SQLite)")
    for column in ("call", "CPU ms/request", "wall ms/request"):
        table.add_column(column, justify="left" if column == "call" else "right")
    for row in result["calls"]:
        table.add_row(row["call"], f"{row['cpu_ms']:.2f}", f"{row['wall_ms']:.2f}")
    console = Console()
    console.print(table)
    console.print(f"idle domain: {result['idle_cpu_ms_per_s']} CPU ms/s in the background")
    console.print(f"written {write_result('request_cost', result)}")


if __name__ == "__main__":
    main()
