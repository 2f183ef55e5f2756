"""Test jobs on demand (serviceFunctionTesting ``createTestJob``): the Y.1564 activation test of an
active EVC or OVC, run again now — how a buyer provider tests its share of an end-to-end EPL over
INTERLUDE after both parts are active (MEF 55.0.1 §10.2 step 12).

The job is stored ``inProgress`` before the answer (it belongs to the caller); a durable workflow, id
``sof-test-job:<job id>``, asks ICM to run the test over PRESTO and records the results as the activation
test's are (:mod:`lso.sof.testing`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from dbos import DBOS, SetWorkflowID
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from lso.mef import runtime
from lso.mef.dates import iso, now_iso
from lso.mef.errors import Issue, MefError, unprocessable
from lso.mef.store import Document
from lso.security.tokens import Caller
from lso.sof import records, testing
from lso.sof.activation import fact, presto, remote_step
from lso.sof.assurance.access import visible_service
from lso.sof.configuration import InformationRate
from lso.sof.presto_client import PrestoError


class _Ref(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str = Field(min_length=1)


class _Profile(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    type: str = Field(alias="@type")
    id: str | None = None


class _Configuration(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    type: str = Field(alias="@type")
    evcServiceId: str | None = None


class TestJobCreate(BaseModel):
    """Kylie ``TestJob_Common`` as a create request: what must be there before SOF accepts a job."""

    __test__ = False  # not a pytest class
    model_config = ConfigDict(extra="allow")
    name: str = Field(min_length=1)
    description: str | None = None
    requestedStartDateTime: datetime | None = None
    requestedEndDateTime: datetime
    testProfile: _Profile
    relatedServiceFrom: _Ref
    relatedServiceTo: _Ref
    serviceSpecificTestJobConfiguration: _Configuration


def create(session: Session, caller: Caller, parsed: TestJobCreate, base: str) -> Document:
    """Check the request against what the caller may test and store the job, in progress."""
    if parsed.testProfile.id != testing.ACTIVATION_PROFILE:
        raise unprocessable(
            Issue(
                "/testProfile/id",
                f"the test profile offered is {testing.ACTIVATION_PROFILE}",
                "referenceNotFound",
            )
        )
    configuration = parsed.serviceSpecificTestJobConfiguration
    if configuration.type != testing.JOB_TYPE or not configuration.evcServiceId:
        raise unprocessable(
            Issue(
                "/serviceSpecificTestJobConfiguration",
                f"@type {testing.JOB_TYPE} with the evcServiceId to test is required",
                "invalidValue",
            )
        )
    evc = _testable(session, caller, configuration.evcServiceId)
    for path, ref in (
        ("/relatedServiceFrom", parsed.relatedServiceFrom),
        ("/relatedServiceTo", parsed.relatedServiceTo),
    ):
        _visible(session, caller, ref.id, f"{path}/id")
    job_id = str(uuid.uuid4())
    now = now_iso()
    job: Document = {
        "id": job_id,
        "href": records.href(f"{base}/testJob/{job_id}"),
        "name": parsed.name,
        "description": parsed.description or f"Y.1564 test of service {evc['id']}, on demand",
        "creationDate": now,
        "lastModifiedDate": now,
        "requestedStartDateTime": iso(parsed.requestedStartDateTime)
        if parsed.requestedStartDateTime
        else now,
        "requestedEndDateTime": iso(parsed.requestedEndDateTime),
        "testProfile": {"@type": "TestProfileRef", "id": testing.ACTIVATION_PROFILE},
        "relatedServiceFrom": {"id": parsed.relatedServiceFrom.id},
        "relatedServiceTo": {"id": parsed.relatedServiceTo.id},
        "serviceSpecificTestJobConfiguration": {"@type": testing.JOB_TYPE, "evcServiceId": evc["id"]},
    }
    records.TEST_JOB_STATES.move(job, "acknowledged", history=None)
    records.TEST_JOB_STATES.move(job, "inProgress", history=None)
    job["actualStartDateTime"] = now
    return records.TEST_JOBS.add(session, job, party=caller.party_id, parent_id=evc["id"])


def _visible(session: Session, caller: Caller, service_id: str, pointer: str) -> Document:
    try:
        return visible_service(session, service_id, caller)
    except MefError:  # not found, or another party's: the same answer, ids never leak
        raise unprocessable(
            Issue(pointer, f"no service {service_id} of yours", "referenceNotFound")
        ) from None


def _testable(session: Session, caller: Caller, service_id: str) -> Document:
    pointer = "/serviceSpecificTestJobConfiguration/evcServiceId"
    service = _visible(session, caller, service_id, pointer)
    if service.get("state") != "active" or fact(service, "connectivityService") is None:
        raise unprocessable(Issue(pointer, f"service {service_id} is not an active EVC", "invalidValue"))
    return service


def start(job_id: str) -> None:
    with SetWorkflowID(f"sof-test-job:{job_id}"):
        DBOS.start_workflow(run_test_job, job_id)


@DBOS.workflow(name="sof.run_test_job")
def run_test_job(job_id: str) -> bool:
    try:
        return run_test(job_id)
    except Exception as exc:  # ICM refused, or did not answer after every retry
        abandon(job_id, str(exc))
        return False


@remote_step("sof.run_test")
def run_test(job_id: str) -> bool:
    with runtime.current().db.read() as session:
        job = records.TEST_JOBS.get(session, job_id)
        service = records.SERVICES.get(session, job["serviceSpecificTestJobConfiguration"]["evcServiceId"])
    cir_mbps, eir_mbps = _rates(service)
    try:
        results = presto().run_service_activation_test(
            str(fact(service, "connectivityService")), cir_mbps, eir_mbps
        )
    except PrestoError as exc:
        if exc.status >= 500:
            raise
        abandon(job_id, exc.reason or str(exc))
        return False
    with runtime.current().db.session() as session:
        return testing.record_results(session, job_id, results)


def _rates(service: Document) -> tuple[float, float]:
    """The committed and excess rates the test offers: the service's ingress bandwidth profile."""
    bwp: dict[str, Any] = service["serviceConfiguration"].get("ingressBwp", {})
    rates = [
        InformationRate.model_validate(bwp[name]).mbps if name in bwp else 0.0 for name in ("cir", "eir")
    ]
    return rates[0], rates[1]


@DBOS.step(name="sof.abandon_test_job")
def abandon(job_id: str, reason: str) -> None:
    with runtime.current().db.session() as session:
        testing.abandon(session, job_id, reason)
