"""Service activation tests as LEGATO ``testJob``s with their ``testResult``s (serviceFunctionTesting v3).

SOF opens the job before asking ICM to run the test and records ICM's per-direction results, so BUS (and
later the customer) reads the activation test the way it reads any other test job.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from lso.mef.dates import later, now_iso
from lso.mef.store import Document
from lso.sof import records
from lso.sof.configuration import EvcComponent
from lso.sof.presto_client import ActivationTestResult

ACTIVATION_PROFILE = "lso-y1564-activation"
JOB_TYPE = "lso:y1564-activation"
RESULT_TYPE = "lso:y1564-activation-result"
_NAMESPACE = uuid.UUID("0b8f4a3e-7d35-4c1e-93a4-1c1c3f1b6d20")


def _service_ref(service_id: str) -> dict[str, str]:
    return {"id": service_id, "href": records.service_href(service_id)}


def job_href(job_id: str) -> str:
    return records.href(f"{records.TESTING_BASE}/testJob/{job_id}")


def open_activation_test(
    session: Session, evc_service_id: str, uni_service_ids: Sequence[str], evc: EvcComponent
) -> Document:
    """The test job of the EVC's activation test, in progress (the same job when a step re-runs)."""
    job_id = str(uuid.uuid5(_NAMESPACE, f"activation:{evc_service_id}"))
    existing = records.TEST_JOBS.find(session, job_id)
    if existing is not None:
        return existing
    now = now_iso()
    job: Document = {
        "id": job_id,
        "href": job_href(job_id),
        "name": "Service activation test",
        "description": f"Y.1564 configuration and performance test of EVC service {evc_service_id}",
        "state": "acknowledged",
        "creationDate": now,
        "lastModifiedDate": now,
        "requestedStartDateTime": now,
        "requestedEndDateTime": later(hours=1),
        "testProfile": {"@type": "TestProfileRef", "id": ACTIVATION_PROFILE},
        "relatedServiceFrom": _service_ref(uni_service_ids[0]),
        "relatedServiceTo": _service_ref(uni_service_ids[-1]),
        "serviceSpecificTestJobConfiguration": {
            "@type": JOB_TYPE,
            "evcServiceId": evc_service_id,
            "cirMbps": evc.cir_mbps,
            "eirMbps": evc.eir_mbps,
        },
    }
    records.TEST_JOB_STATES.move(job, "inProgress", history=None)
    job["actualStartDateTime"] = now
    party = records.SERVICES.party_of(session, evc_service_id)
    return records.TEST_JOBS.add(session, job, party=party, parent_id=evc_service_id)


def record_results(session: Session, job_id: str, results: Sequence[ActivationTestResult]) -> bool:
    """Store one testResult per tested direction, complete the job; True when every direction passed."""
    job = records.TEST_JOBS.get(session, job_id)
    party = records.TEST_JOBS.party_of(session, job_id)
    now = now_iso()
    for index, result in enumerate(results):
        result_id = f"{job_id}-{index + 1}"
        if records.TEST_RESULTS.find(session, result_id) is None:
            records.TEST_RESULTS.add(
                session, _result(job, result_id, result, now), party=party, parent_id=job_id
            )
    passed = bool(results) and all(r.passed for r in results)
    job["verdict"] = "pass" if passed else "fail"
    _finish(session, job, "completed", now)
    return passed


def abandon(session: Session, job_id: str, reason: str) -> None:
    """ICM could not run the test: the job is cancelled and says why."""
    job = records.TEST_JOBS.get(session, job_id)
    job["terminationError"] = [{"code": "otherIssue", "value": reason}]
    _finish(session, job, "cancelled", now_iso())


def _finish(session: Session, job: Document, state: str, now: str) -> None:
    if records.TEST_JOB_STATES.move(job, state, history=None):
        job["actualEndDateTime"] = now
        job["lastModifiedDate"] = now
        records.TEST_JOBS.put(session, job)


def _result(job: Document, result_id: str, result: ActivationTestResult, now: str) -> Document:
    measured: dict[str, Any] = {
        "@type": RESULT_TYPE,
        "verdict": "pass" if result.passed else "fail",
        "aEnd": result.a_end,
        "zEnd": result.z_end,
        "frameDelayMs": result.frame_delay_ms,
        "frameDelayVariationMs": result.frame_delay_variation_ms,
        "frameLossRatio": result.frame_loss_ratio,
        "throughputMbps": result.throughput_mbps,
    }
    return {
        "id": result_id,
        "href": records.href(f"{records.TESTING_BASE}/testResult/{result_id}"),
        "actualStartDateTime": job["actualStartDateTime"],
        "actualEndDateTime": now,
        "relatedServiceFrom": job["relatedServiceFrom"],
        "relatedServiceTo": job["relatedServiceTo"],
        "testJob": {"id": job["id"], "href": job["href"]},
        "serviceSpecificTestResultConfiguration": measured,
    }
