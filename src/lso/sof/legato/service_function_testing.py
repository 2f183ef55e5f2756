"""LEGATO Service Function Testing v3 (Kylie): the activation tests SOF ran, and their results.

Only reading is offered for now; creating, cancelling or modifying test jobs answers 501.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from lso.mef import runtime
from lso.mef.errors import not_implemented
from lso.mef.http import MefResponse
from lso.mef.paging import list_page
from lso.security.tokens import InternalDep
from lso.sof import records

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


def router() -> APIRouter:
    api = APIRouter(prefix=records.TESTING_BASE, tags=["LEGATO serviceFunctionTesting"])

    @api.get("/testJob")
    def list_test_job(request: Request, caller: InternalDep) -> MefResponse:
        return list_page(runtime.current().db, records.TEST_JOBS, request, caller.party_id, _JOB_FILTERS)

    @api.post("/testJob")
    def create_test_job(_caller: InternalDep) -> MefResponse:
        raise not_implemented("createTestJob")

    @api.get("/testJob/{job_id}")
    def retrieve_test_job(job_id: str, caller: InternalDep) -> MefResponse:
        with runtime.current().db.read() as session:
            return MefResponse(records.TEST_JOBS.get(session, job_id, caller.party_id))

    @api.get("/testResult")
    def list_test_result(request: Request, caller: InternalDep) -> MefResponse:
        return list_page(
            runtime.current().db, records.TEST_RESULTS, request, caller.party_id, _RESULT_FILTERS
        )

    @api.get("/testResult/{result_id}")
    def retrieve_test_result(result_id: str, caller: InternalDep) -> MefResponse:
        with runtime.current().db.read() as session:
            return MefResponse(records.TEST_RESULTS.get(session, result_id, caller.party_id))

    return api
