"""Service Function Testing v3 (Kylie): the activation tests SOF ran, and their results — on LEGATO for
BUS and on INTERLUDE for a partner provider, scoped to the tests of the services it ordered over INTERLUDE
(a test job belongs to the party of the service it tests). That is the partner's share of an end-to-end
activation test (§10.2 step 12).

A job created here is the activation test of an active EVC or OVC the caller may see, run again now
(:mod:`lso.sof.test_jobs`); a job in progress can be cancelled, and the caller's hubs hear of its jobs.
Suspending, resuming or modifying jobs and managing test profiles are not offered: those operations
answer 501 ``notImplemented`` (the one profile, ``lso-y1564-activation``, is fixed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request

from lso.mef import runtime
from lso.mef.body import JsonBody, parse_model
from lso.mef.errors import not_implemented
from lso.mef.http import MefResponse
from lso.mef.notifications import dispatch, hub_router
from lso.mef.paging import list_page
from lso.security.tokens import Caller
from lso.sof import records, test_jobs
from lso.sof.legato.service_ordering import MOUNTS, OrderingMount

# Kylie query names → where the value sits in the stored document.
_JOB_FILTERS = {
    "relatedServiceIdFrom": "relatedServiceFrom.id",
    "relatedServiceIdTo": "relatedServiceTo.id",
    "testProfileId": "testProfile.id",
    "name": "name",
    "state": "state",
    "requestedStartDateTime": "requestedStartDateTime",
    "requestedEndDateTime": "requestedEndDateTime",
}
_RESULT_FILTERS = {
    "testJobId": "testJob.id",
    "relatedServiceIdFrom": "relatedServiceFrom.id",
    "relatedServiceIdTo": "relatedServiceTo.id",
}


_CANCEL_FILTERS = {"testJobId": "testJob.id", "state": "state"}
_NOT_OFFERED = [
    (method, path, operation)
    for process in ("suspend", "resume", "modify")
    for method, path, operation in (
        ("POST", f"/{process}TestJob", f"create{process.title()}TestJob"),
        ("GET", f"/{process}TestJob", f"list{process.title()}TestJob"),
        ("GET", f"/{process}TestJob/{{request_id}}", f"retrieve{process.title()}TestJob"),
    )
] + [
    ("GET", "/testProfile", "listTestProfile"),
    ("POST", "/testProfile", "createTestProfile"),
    ("GET", "/testProfile/{profile_id}", "retrieveTestProfile"),
    ("DELETE", "/testProfile/{profile_id}", "deleteTestProfile"),
    ("PATCH", "/testProfile/{profile_id}", "modifyTestProfile"),
]

_BASES = {
    records.ORDERING_BASE: records.TESTING_BASE,
    records.INTERLUDE_ORDERING_BASE: records.INTERLUDE_TESTING_BASE,
}


def router() -> APIRouter:
    api = APIRouter()
    for mount in MOUNTS:  # who may test is who may order: BUS on LEGATO, a buyer provider on INTERLUDE
        api.include_router(_mount_router(mount))
    return api


def _mount_router(mount: OrderingMount) -> APIRouter:
    tag = mount.tag.replace("serviceOrderingManagement", "serviceFunctionTesting")
    api = APIRouter(prefix=_BASES[mount.base], tags=[tag])
    guard = Depends(mount.authorise)
    events = test_jobs.EVENTS[_BASES[mount.base]]
    # The Kylie document lists no 422 on registerListener: a bad registration is a 400.
    api.include_router(hub_router(events, tag, authorise=guard, invalid_status=400))

    @api.get("/testJob")
    def list_test_job(request: Request, caller: Caller = guard) -> MefResponse:
        return list_page(runtime.current().db, records.TEST_JOBS, request, caller.party_id, _JOB_FILTERS)

    @api.post("/testJob", status_code=201)
    def create_test_job(body: JsonBody, caller: Caller = guard) -> MefResponse:
        parsed = parse_model(test_jobs.TestJobCreate, body)
        with runtime.current().db.session() as session:
            job, delivery_ids = test_jobs.create(session, caller, parsed, api.prefix)
        dispatch(delivery_ids)
        test_jobs.start(job["id"])
        return MefResponse(job, status_code=201)

    @api.post("/cancelTestJob", status_code=201)
    def create_cancel_test_job(body: JsonBody, caller: Caller = guard) -> MefResponse:
        parsed = parse_model(test_jobs.CancelTestJobCreate, body)
        with runtime.current().db.session() as session:
            request, delivery_ids = test_jobs.cancel(session, caller, parsed, api.prefix)
        dispatch(delivery_ids)
        return MefResponse(request, status_code=201)

    @api.get("/cancelTestJob")
    def list_cancel_test_job(request: Request, caller: Caller = guard) -> MefResponse:
        return list_page(runtime.current().db, test_jobs.CANCELS, request, caller.party_id, _CANCEL_FILTERS)

    @api.get("/cancelTestJob/{request_id}")
    def retrieve_cancel_test_job(request_id: str, caller: Caller = guard) -> MefResponse:
        with runtime.current().db.read() as session:
            return MefResponse(test_jobs.CANCELS.get(session, request_id, caller.party_id))

    @api.get("/testJob/{job_id}")
    def retrieve_test_job(job_id: str, caller: Caller = guard) -> MefResponse:
        with runtime.current().db.read() as session:
            return MefResponse(records.TEST_JOBS.get(session, job_id, caller.party_id))

    @api.get("/testResult")
    def list_test_result(request: Request, caller: Caller = guard) -> MefResponse:
        return list_page(
            runtime.current().db, records.TEST_RESULTS, request, caller.party_id, _RESULT_FILTERS
        )

    @api.get("/testResult/{result_id}")
    def retrieve_test_result(result_id: str, caller: Caller = guard) -> MefResponse:
        with runtime.current().db.read() as session:
            return MefResponse(records.TEST_RESULTS.get(session, result_id, caller.party_id))

    api.include_router(_not_offered(guard))
    return api


def _not_offered(guard: Any) -> APIRouter:
    """The operations of the document this SOF does not offer: 501 ``notImplemented`` (MEF's answer to
    an optional operation a seller does not support)."""
    api = APIRouter()
    for method, path, operation in _NOT_OFFERED:
        api.add_api_route(path, _refusal(operation, guard), methods=[method], name=operation)
    return api


def _refusal(operation: str, guard: Any) -> Callable[..., MefResponse]:
    def refuse(_caller: Caller = guard) -> MefResponse:
        raise not_implemented(operation)

    return refuse
