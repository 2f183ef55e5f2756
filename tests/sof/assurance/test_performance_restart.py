"""A proactive job survives a SIGKILL of its domain: after the restart it goes on reporting, and no period
is ever reported twice (its workflow is keyed by the job, its reports by job and period). The EPL is
ordered over CANTATA, so this also shows BUS passing the customer's identity to SOF."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.bus.test_order_bodies import ORDERING, epl_order
from tests.harness import domain_process, free_port, party_client, wait_until
from tests.sof.assurance.assurance import ALLEGRO_PM, job_body, profile_value
from tests.sof.orders import INVENTORY
from tests.test_crash_recovery import _as_entity


def _reports(acme: httpx.Client, job_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = acme.get(
        f"{ALLEGRO_PM}/performanceReport", params={"performanceJobId": job_id}
    ).json()
    return found


def _completed(acme: httpx.Client, order_id: str) -> bool:
    return bool(acme.get(f"{ORDERING}/productOrder/{order_id}").json()["state"] == "completed")


def test_a_proactive_job_resumes_after_sigkill_without_reporting_a_period_twice(tmp_path: Path) -> None:
    data_dir, port = tmp_path / "provider", free_port()
    with domain_process(data_dir, port) as (process, base_url):
        acme = party_client(base_url, "acme", "acme-secret")
        order_id = acme.post(f"{ORDERING}/productOrder", json=epl_order()).json()["id"]
        wait_until(lambda: _completed(acme, order_id), timeout=120)
        bus = _as_entity(base_url, data_dir, "bus")
        services = bus.get(f"{INVENTORY}/service", params={"externalId": order_id}).json()
        evc = next(s["id"] for s in services if s["serviceType"] == "EVC")
        created = acme.post(f"{ALLEGRO_PM}/performanceJob", json=job_body(evc, profile_value("proactive")))
        assert created.status_code == 201, created.text
        job_id = created.json()["id"]
        wait_until(lambda: len(_reports(acme, job_id)) >= 2, timeout=60)
        before = len(_reports(acme, job_id))
        process.kill()
        process.wait()

    with domain_process(data_dir, port) as (_process, base_url):
        acme = party_client(base_url, "acme", "acme-secret")
        wait_until(lambda: len(_reports(acme, job_id)) >= before + 2, timeout=60)
        reports = _reports(acme, job_id)
        starts = [r["reportingTimeframe"]["reportingStartDate"] for r in reports]
        assert len(starts) == len(set(starts)), "a period was reported twice"
        assert acme.get(f"{ALLEGRO_PM}/performanceJob/{job_id}").json()["state"] == "inProgress"
