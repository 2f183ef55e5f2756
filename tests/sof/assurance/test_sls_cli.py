"""``lso sim``: impairments and faults of a running domain's simulated network, from the command line."""

from __future__ import annotations

import math
import time
from typing import Any

import httpx
from typer.testing import CliRunner

from lso.cli import app
from lso.settings import Settings
from tests.harness import wait_until
from tests.sof.assurance.sls_orders import epl_order_with_sls
from tests.sof.orders import ORDERING
from tests.sof.test_activation import characteristic, services_of, settled

runner = CliRunner()


def sim(settings: Settings, *args: str) -> Any:
    where = ["--url", settings.base_url, "--data-dir", str(settings.data_dir)]
    return runner.invoke(app, ["sim", *args, *where])


def delay_of(bus: httpx.Client, connectivity_service: str) -> float:
    """The largest mean one-way delay (ms) of an interval that began after this call, in either
    direction: the PM sessions' intervals over PRESTO, measured per the profile SOF's SLS assessment set."""
    since = math.ceil(time.time())
    body = {"input": {"service-id-or-name": connectivity_service, "since": since}}

    def measured() -> list[dict[str, Any]]:
        answer = bus.post("/restconf/operations/lso-get-performance-measurements/", json=body)
        assert answer.status_code == 200, answer.text
        pairs = answer.json()["output"]["measurement"]
        return [i for pair in pairs for i in pair["interval"]] if all(p["interval"] for p in pairs) else []

    found = wait_until(measured, timeout=30)
    return max(i["fd_sum_us"] / i["delivered"] for i in found) / 1000


def test_impair_adds_delay_on_the_path_and_clear_removes_it(
    domain: Settings,
    bus: httpx.Client,
    terminated: Any,
) -> None:
    order = settled(bus, bus.post(f"{ORDERING}/serviceOrder", json=epl_order_with_sls(50)).json()["id"])
    evc = terminated(next(s for s in services_of(bus, order) if s["serviceType"] == "EVC"))
    connectivity, element = characteristic(evc, "connectivityService"), characteristic(evc, "path")[0]
    before = delay_of(bus, connectivity)

    impaired = sim(domain, "impair", element, "--delay-ms", "30")
    assert impaired.exit_code == 0, impaired.output
    assert "impaired" in impaired.output
    assert delay_of(bus, connectivity) >= before + 30

    cleared = sim(domain, "impair", element, "--clear")
    assert cleared.exit_code == 0, cleared.output
    assert delay_of(bus, connectivity) < before + 30


def test_fault_raises_and_clears_an_alarm(domain: Settings, internal: Any) -> None:
    port = "pe-lds-1/uni-120"  # a UNI port no test service uses
    raised = sim(domain, "fault", "port", port)
    assert raised.exit_code == 0, raised.output
    ecm: httpx.Client = internal("ecm")
    alarms = ecm.get("/adagio/v1/alarms", params={"element": "pe-lds-1"}).json()
    assert any(a["source"] == f"port:{port}" and a["state"] == "raised" for a in alarms)

    assert sim(domain, "fault", "port", port, "--clear").exit_code == 0
    alarms = ecm.get("/adagio/v1/alarms", params={"element": "pe-lds-1"}).json()
    assert all(a["state"] == "cleared" for a in alarms if a["source"] == f"port:{port}")


def test_nonsense_is_refused_before_anything_is_sent(domain: Settings) -> None:
    assert sim(domain, "impair", "pe-ldn-1", "--loss", "2").exit_code == 2
    assert sim(domain, "impair", "pe-ldn-1").exit_code == 2
    assert sim(domain, "fault", "cable", "pe-ldn-1").exit_code == 2
