"""Fault management jobs follow the same state machine as performance jobs: suspend, resume, modify and
cancel, each a Kylie task or operation with its events."""

from __future__ import annotations

from typing import Any

import httpx

from tests.harness import running_listener, wait_until
from tests.sof.assurance.assurance import ALLEGRO_FM, SSC, customer_epl, duration


def _job_body(service_id: str) -> dict[str, Any]:
    return {
        "monitoredObject": {"@type": "ServiceRef", "serviceId": service_id},
        "scheduleDefinition": {},
        "granularity": duration(1, "MIN"),
        "reportingPeriod": duration(1, "HOUR"),
        "jobType": "proactive",
        "outputFormat": "json",
        "resultFormat": "payload",
        "serviceSpecificConfiguration": SSC,
    }


def _state(client: httpx.Client, job_id: str) -> str:
    return str(client.get(f"{ALLEGRO_FM}/faultManagementJob/{job_id}").json()["state"])


def test_a_fault_management_job_is_suspended_modified_and_cancelled(
    acme: httpx.Client, bus: httpx.Client
) -> None:
    epl = customer_epl(bus, "acme")
    ref = {"@type": "FaultManagementJobRef"}
    with running_listener() as listener:
        assert acme.post(f"{ALLEGRO_FM}/hub", json={"callback": listener.url}).status_code == 201
        job = acme.post(f"{ALLEGRO_FM}/faultManagementJob", json=_job_body(epl)).json()
        ref["faultManagementJobId"] = job["id"]
        assert wait_until(lambda: _state(acme, job["id"]) == "inProgress")

        assert acme.post(f"{ALLEGRO_FM}/faultManagementJob/{job['id']}/suspend").status_code == 204
        assert _state(acme, job["id"]) == "suspended"
        modify = acme.post(
            f"{ALLEGRO_FM}/modifyFaultManagementJob",
            json={"faultManagementJob": ref, "reportingPeriod": duration(2, "HOUR")},
        )
        assert modify.status_code == 201, modify.text
        changed = acme.get(f"{ALLEGRO_FM}/faultManagementJob/{job['id']}").json()
        assert changed["reportingPeriod"] == duration(2, "HOUR") and changed["state"] == "inProgress"
        bad = acme.post(
            f"{ALLEGRO_FM}/modifyFaultManagementJob",
            json={"faultManagementJob": ref, "granularity": duration(0)},
        )
        assert bad.status_code == 422

        cancel = acme.post(f"{ALLEGRO_FM}/cancelFaultManagementJob", json={"faultManagementJob": ref})
        assert cancel.status_code == 201, cancel.text
        assert _state(acme, job["id"]) == "cancelled"
        again = acme.post(f"{ALLEGRO_FM}/cancelFaultManagementJob", json={"faultManagementJob": ref})
        assert again.status_code == 422, "a cancelled job cannot be cancelled again"

        def states() -> list[str]:
            return [
                e["event"]["state"] for e in listener.about("faultManagementJobStateChangeEvent", job["id"])
            ]

        # Deliveries run concurrently, so events may arrive out of order: compare what arrived.
        expected = sorted(["inProgress", "suspended", "pending", "inProgress", "pendingCancel", "cancelled"])
        assert wait_until(lambda: sorted(states()) == expected or None, timeout=20), states()
        tasks = listener.received("cancelFaultManagementJobStateChangeEvent")
        assert sorted(e["event"]["state"] for e in tasks) == ["completed", "inProgress"]
