"""The SLS assessment of a service just made active waits before its first run: no measurement interval
has ended yet, so a run at once would judge nothing (and cost the order requests to ICM and ECM)."""

from __future__ import annotations

from typing import Any

import httpx
from dbos import DBOS

from lso.sof.assurance import sls
from tests.harness import wait_until
from tests.sof.assurance.sls_orders import epl_order_with_sls
from tests.sof.orders import ORDERING
from tests.sof.test_activation import services_of, settled


def test_the_first_run_comes_after_a_wait(bus: httpx.Client, terminated: Any) -> None:
    order = settled(bus, bus.post(f"{ORDERING}/serviceOrder", json=epl_order_with_sls(50)).json()["id"])
    evc = terminated(next(s for s in services_of(bus, order) if s["serviceType"] == "EVC"))
    assessment = sls.workflow_id(evc["id"], 0)

    def steps_to_first_run() -> list[str] | None:
        names = [step["function_name"] for step in DBOS.list_workflow_steps(assessment, load_output=False)]
        return names[: names.index("sof.assess_sls") + 1] if "sof.assess_sls" in names else None

    steps = wait_until(steps_to_first_run, timeout=30)
    assert steps[0] == "sof.begin_sls_generation"
    assert "DBOS.recv" in steps[1:-1], steps  # the period's wait (the test domain's is a second)
