"""Service Function Testing v3 (Kylie): the activation tests SOF ran, and their results — on LEGATO for
BUS and on INTERLUDE for a partner provider, scoped to the tests of the services it ordered over INTERLUDE
(a test job belongs to the party of the service it tests). That is the partner's share of an end-to-end
activation test (§10.2 step 12).

A job created here is the activation test of an active EVC or OVC the caller may see, run again now
(:mod:`lso.sof.test_jobs`); cancelling, suspending or modifying jobs is not offered (no such paths).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from lso.mef import runtime
from lso.mef.body import JsonBody, parse_model
from lso.mef.http import MefResponse
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

    @api.get("/testJob")
    def list_test_job(request: Request, caller: Caller = guard) -> MefResponse:
        return list_page(runtime.current().db, records.TEST_JOBS, request, caller.party_id, _JOB_FILTERS)

    @api.post("/testJob", status_code=201)
    def create_test_job(body: JsonBody, caller: Caller = guard) -> MefResponse:
        parsed = parse_model(test_jobs.TestJobCreate, body)
        with runtime.current().db.session() as session:
            job = test_jobs.create(session, caller, parsed, api.prefix)
        test_jobs.start(job["id"])
        return MefResponse(job, status_code=201)

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

    return api
