"""Checkpoint cost: CPU milliseconds of each kind of durable checkpoint an order's workflows write.

An order's fulfilment, activation and SLS assessment are DBOS workflows; every step, workflow
start, child start and message wait writes DBOS's system database. This measures what each costs this
process on the embedded SQLite system database, configured as a domain configures it (WAL), with no
work inside: a floor under every order's CPU, whatever the steps do. The JSON result goes to
benchmarks/results/. Run: ``.venv/bin/python benchmarks/checkpoint_cost.py --repeat 200``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dbos import DBOS, SetWorkflowID
from dbos._dbos import _get_dbos_instance
from rich.console import Console
from rich.table import Table

from lso.domain import dbos_sqlite_engine, wake_local_receivers
from report import machine, write_result

STEPS = 20
CHILDREN = 10


@DBOS.step()
def _nothing() -> None:
    pass


@DBOS.workflow()
def _steps(count: int) -> None:
    for _ in range(count):
        _nothing()


@DBOS.workflow()
def _children(run: int, count: int) -> None:
    for child in range(count):
        with SetWorkflowID(f"child-{run}-{child}"):
            DBOS.start_workflow(_steps, 0)


@DBOS.workflow()
def _receive() -> None:
    DBOS.recv("topic", timeout_seconds=60)


def _cpu_ms(repeat: int, run: Callable[[int], Any]) -> float:
    """CPU ms of one ``run(i)``, over ``repeat`` runs one after another."""
    started = time.process_time()
    for i in range(repeat):
        run(i)
    return (time.process_time() - started) * 1000 / repeat


def _send_and_receive(i: int) -> None:
    with SetWorkflowID(f"receive-{i}"):
        handle = DBOS.start_workflow(_receive)
    DBOS.send(handle.workflow_id, "news", "topic")
    handle.get_result()


def _started(i: int) -> None:
    with SetWorkflowID(f"started-{i}"):
        DBOS.start_workflow(_steps, 0).get_result()


def run(repeat: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="lso-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'dbos.sqlite'}"
        DBOS(
            config={
                "name": "checkpoint-cost",
                "system_database_url": url,
                "system_database_engine": dbos_sqlite_engine(url),
                "console_log_level": "WARNING",
                "notification_listener_polling_interval_sec": 30.0,
            }
        )
        DBOS.launch()
        wake_local_receivers(_get_dbos_instance()._sys_db)  # as a domain does: a send wakes its receiver
        try:
            _steps(STEPS)  # warm-up: connections, statement caches
            empty = _cpu_ms(repeat, lambda _i: _steps(0))
            with_steps = _cpu_ms(repeat, lambda _i: _steps(STEPS))
            started = _cpu_ms(repeat, _started)
            with_children = _cpu_ms(max(1, repeat // CHILDREN), lambda i: _children(i, CHILDREN))
            received = _cpu_ms(repeat, _send_and_receive)
        finally:
            DBOS.destroy()
    rows = {
        "workflow called, no step": empty,
        "workflow started (start_workflow), no step": started,
        "step (no work inside)": (with_steps - empty) / STEPS,
        "child workflow started from a workflow, run": (with_children - empty) / CHILDREN,
        "send, and the started workflow's recv": received - started,
    }
    return {
        "benchmark": "checkpoint_cost",
        "machine": machine(),
        "repeat": repeat,
        "cpu_ms": {name: round(value, 3) for name, value in rows.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=200, help="runs of each measured workflow")
    args = parser.parse_args()
    result = run(args.repeat)
    table = Table(title=f"Durable checkpoints on the SQLite system database ({args.repeat} runs each)")
    table.add_column("what")
    table.add_column("CPU ms", justify="right")
    for name, value in result["cpu_ms"].items():
        table.add_row(name, f"{value:.2f}")
    console = Console()
    console.print(table)
    console.print(f"written {write_result('checkpoint_cost', result)}")


if __name__ == "__main__":
    main()
