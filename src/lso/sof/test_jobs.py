"""Test jobs on demand (serviceFunctionTesting ``createTestJob``): the Y.1564 activation test of an
active EVC or OVC, run again now — how a buyer provider tests its share of an end-to-end EPL over
INTERLUDE after both parts are active (MEF 55.0.1 §10.2 step 12).

The job is stored ``inProgress`` before the answer (it belongs to the caller); a durable workflow, id
``sof-test-job:<job id>``, asks ICM to run the test over PRESTO and records the results as the activation
test's are (:mod:`lso.sof.testing`). A job in progress can be cancelled (``cancelTestJob``): it ends
``cancelled`` and a test that finishes later records nothing. The caller's hubs on the mount the job was
created on hear of it (``testJobCreateEvent``, ``testJobStateChangeEvent``,
``cancelTestJobStateChangeEvent``).
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
from lso.mef.notifications import NotificationApi, dispatch, publish
from lso.mef.store import Document, Store
from lso.security.tokens import Caller
from lso.sof import records, testing
from lso.sof.activation import fact, presto, remote_step
from lso.sof.assurance.access import visible_service
from lso.sof.configuration import InformationRate
from lso.sof.presto_client import PrestoError

EVENTS = {
    records.TESTING_BASE: NotificationApi("legato", "serviceFunctionTestingNotification", "v3"),
    records.INTERLUDE_TESTING_BASE: NotificationApi("interlude", "serviceFunctionTestingNotification", "v3"),
}
"""Where each mount's test job events go (a job keeps the mount it was created on in its ``href``)."""
CANCELS = Store("sof.cancelTestJob", "cancelTestJob")
ENDED = ("completed", "cancelled")


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


class CancelTestJobCreate(BaseModel):
    """Kylie ``CancelTestJob_Common``."""

    model_config = ConfigDict(extra="ignore")
    testJob: _Ref
    cancellationReason: str | None = None


def create(session: Session, caller: Caller, parsed: TestJobCreate, base: str) -> tuple[Document, list[str]]:
    """Check the request against what the caller may test and store the job, in progress; the job and
    the deliveries of its ``testJobCreateEvent``."""
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
    stored = records.TEST_JOBS.add(session, job, party=caller.party_id, parent_id=evc["id"])
    return stored, _publish(session, job, "testJobCreateEvent", {"id": job_id, "href": job["href"]}, "create")


def cancel(
    session: Session, caller: Caller, parsed: CancelTestJobCreate, base: str
) -> tuple[Document, list[str]]:
    """``cancelTestJob``: a job of the caller's in progress ends ``cancelled`` (accepted); one that has
    already ended stays as it is (rejected, saying why). The request and its deliveries."""
    job = records.TEST_JOBS.find(session, parsed.testJob.id, caller.party_id)
    if job is None:
        raise unprocessable(
            Issue("/testJob/id", f"no test job {parsed.testJob.id} of yours", "referenceNotFound")
        )
    request_id = str(uuid.uuid4())
    request: Document = {
        "id": request_id,
        "href": records.href(f"{base}/cancelTestJob/{request_id}"),
        "creationDate": now_iso(),
        "testJob": {"id": job["id"], "href": job["href"]},
        "cancellationReason": parsed.cancellationReason,
    }
    ids: list[str] = []
    if job["state"] in ENDED:
        request["state"] = "rejected"
        request["cancellationDeniedReason"] = f"the test job has already ended ({job['state']})"
    else:
        request["state"] = "accepted"
        testing.abandon(
            session, job["id"], f"cancelled by the buyer: {parsed.cancellationReason or 'no reason'}"
        )
        ids += announce(session, job["id"])
    CANCELS.add(session, request, party=caller.party_id, parent_id=job["id"])
    event = {"id": request_id, "href": request["href"], "state": request["state"]}
    return request, ids + _publish(
        session, job, "cancelTestJobStateChangeEvent", event, f"cancel:{request_id}"
    )


def announce(session: Session, job_id: str) -> list[str]:
    """``testJobStateChangeEvent`` of the job's state now (the same event again when repeated)."""
    job = records.TEST_JOBS.get(session, job_id)
    event = {"id": job_id, "href": job["href"], "state": job["state"]}
    return _publish(session, job, "testJobStateChangeEvent", event, f"state:{job['state']}")


def _publish(session: Session, job: Document, event_type: str, event: Document, key: str) -> list[str]:
    api = next(api for base, api in EVENTS.items() if base in job["href"])
    party = records.TEST_JOBS.party_of(session, job["id"])
    return publish(session, api, party, event_type, event, event_id=f"{job['id']}:{key}")


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
        passed = run_test(job_id)
    except Exception as exc:  # ICM refused, or did not answer after every retry
        abandon(job_id, str(exc))
        passed = False
    dispatch(announce_end(job_id))
    return passed


@DBOS.step(name="sof.announce_test_job_end")
def announce_end(job_id: str) -> list[str]:
    with runtime.current().db.session() as session:
        return announce(session, job_id)


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
        if records.TEST_JOBS.get(session, job_id)["state"] in ENDED:  # cancelled meanwhile: keep nothing
            return False
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
