"""Performance Monitoring v5 (Kylie) on one IRP: profiles, jobs, tasks, reports (§10.4 steps 1–6).

The job, task and report operations are shared with fault management (:mod:`routes`); this module adds
what only performance monitoring has: performance profiles, jobs that use them, and reports created on
demand for a timeframe.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from lso.mef import runtime
from lso.mef.body import JsonBody, parse_model
from lso.mef.dates import normalise, now_iso, parse
from lso.mef.errors import Issue, unprocessable
from lso.mef.http import MefResponse, no_content
from lso.mef.notifications import dispatch, publish
from lso.mef.paging import list_page
from lso.mef.store import Document
from lso.security.tokens import Caller
from lso.sof.assurance import models, reports
from lso.sof.assurance.access import Irp
from lso.sof.assurance.jobs import PERFORMANCE, PROFILES, seconds
from lso.sof.assurance.routes import job_router, monitored_service, schedule_fields
from lso.sof.assurance.schedule import content_for

_JOB_FILTERS = {
    "buyerJobId": "buyerJobId",
    "performanceProfileId": "performanceProfile.performanceProfileId",
    "jobType": "performanceProfile.jobType",
    "jobPriority": "performanceProfile.jobPriority",
    "consumingApplicationId": "consumingApplicationId",
    "producingApplicationId": "producingApplicationId",
    "serviceFromId": "monitoredObject.serviceFrom.id",
    "serviceToId": "monitoredObject.serviceTo.id",
}
_PROFILE_FILTERS = {
    "creationDateTime": "creationDateTime",
    "jobType": "jobType",
    "jobPriority": "jobPriority",
    "lifecycleStatus": "lifecycleStatus",
}


def _dump(model: Any) -> Document:
    return dict(model.model_dump(mode="json", by_alias=True, exclude_none=True))


def parse_job(session: Session, body: Any, caller: Caller) -> Document:
    parsed = parse_model(models.PerformanceJobCreate, body)
    monitored_service(session, _dump(parsed.monitoredObject), caller, "/monitoredObject")
    job = _dump(parsed)
    profile = job["performanceProfile"]
    if profile.get("@type") == "PerformanceProfileRef":
        ref = parse_model(models.PerformanceProfileRef, profile, "/performanceProfile")
        stored = PROFILES.find(session, ref.performanceProfileId, caller.party_id)
        if stored is None:
            path = "/performanceProfile/performanceProfileId"
            raise unprocessable(
                Issue(
                    path, f"performanceProfile {ref.performanceProfileId} does not exist", "referenceNotFound"
                )
            )
        if not stored["isAssigned"]:
            PROFILES.put(session, {**stored, "isAssigned": True})
        profile["performanceProfileHref"] = stored["href"]
    else:
        job["performanceProfile"] = _dump(
            parse_model(models.PerformanceProfileValue, profile, "/performanceProfile")
        )
    job["scheduleDefinition"] = schedule_fields(job["scheduleDefinition"], "/scheduleDefinition")
    return job


def router(irp: Irp) -> APIRouter:
    api = APIRouter(prefix=PERFORMANCE.base(irp.name), tags=[f"{irp.name.upper()} performanceMonitoring"])
    api.include_router(_profile_router(irp))
    api.include_router(_report_router(irp))
    api.include_router(job_router(PERFORMANCE, irp, parse_job, _JOB_FILTERS))
    return api


def _profile_router(irp: Irp) -> APIRouter:
    api = APIRouter()
    events = PERFORMANCE.events(irp.name)

    def _event(session: Session, party: str, kind: str, profile: Document) -> list[str]:
        ref = {"id": profile["id"], "href": profile["href"]}
        return publish(session, events, party, f"performanceProfile{kind}Event", ref)

    @api.get("/performanceProfile")
    def list_profiles(request: Request, caller: Caller = irp.depends) -> MefResponse:
        return list_page(runtime.current().db, PROFILES, request, caller.party_id, _PROFILE_FILTERS)

    @api.post("/performanceProfile", status_code=201)
    def create_profile(body: JsonBody, caller: Caller = irp.depends) -> MefResponse:
        profile = _dump(parse_model(models.PerformanceProfileCreate, body))
        profile["id"] = PROFILES.new_id()
        profile["href"] = PERFORMANCE.href(irp.name, f"performanceProfile/{profile['id']}")
        profile["creationDateTime"] = profile["lastTimeModified"] = now_iso()
        profile["isAssigned"] = False
        with runtime.current().db.session() as session:
            PROFILES.add(session, profile, party=caller.party_id)
            ids = _event(session, caller.party_id, "Create", profile)
        dispatch(ids)
        return MefResponse(profile, status_code=201)

    @api.get("/performanceProfile/{profile_id}")
    def retrieve_profile(profile_id: str, caller: Caller = irp.depends) -> MefResponse:
        with runtime.current().db.read() as session:
            return MefResponse(PROFILES.get(session, profile_id, caller.party_id))

    @api.patch("/performanceProfile/{profile_id}")
    def modify_profile(profile_id: str, body: JsonBody, caller: Caller = irp.depends) -> MefResponse:
        with runtime.current().db.session() as session:
            stored = PROFILES.get(session, profile_id, caller.party_id)
            if not isinstance(body, dict):
                raise unprocessable(Issue("", "the body must be a PerformanceProfile_Update object"))
            changed = {
                k: v for k, v in body.items() if k not in {"id", "href", "isAssigned", "creationDateTime"}
            }
            candidate = {k: v for k, v in {**stored, **changed}.items() if k not in {"id", "href"}}
            merged = _dump(parse_model(models.PerformanceProfileCreate, candidate))
            profile = {**stored, **merged, "lastTimeModified": now_iso()}
            PROFILES.put(session, profile)
            ids = _event(session, caller.party_id, "AttributeValueChange", profile)
        dispatch(ids)
        return MefResponse(profile)

    @api.delete("/performanceProfile/{profile_id}", status_code=204)
    def delete_profile(profile_id: str, caller: Caller = irp.depends) -> Response:
        with runtime.current().db.session() as session:
            profile = PROFILES.get(session, profile_id, caller.party_id)
            if profile["isAssigned"]:
                raise unprocessable(
                    Issue(
                        "/id", f"performanceProfile {profile_id} is used by a job", "performanceProfileInUse"
                    )
                )
            PROFILES.delete(session, profile_id)
            ids = _event(session, caller.party_id, "Delete", profile)
        dispatch(ids)
        return no_content()

    return api


def _report_router(irp: Irp) -> APIRouter:
    api = APIRouter()

    @api.post("/performanceReport", status_code=201)
    def create_report(body: JsonBody, caller: Caller = irp.depends) -> MefResponse:
        """An on-demand report over a timeframe: cached samples, plus the current interval from ICM."""
        parsed = parse_model(models.PerformanceReportCreate, body)
        request = _dump(parsed)
        timeframe = request["reportingTimeframe"]
        for name in ("reportingStartDate", "reportingEndDate"):
            timeframe[name] = normalise(timeframe[name])
        if timeframe["reportingEndDate"] <= timeframe["reportingStartDate"]:
            raise unprocessable(
                Issue("/reportingTimeframe/reportingEndDate", "the end must follow the start")
            )
        granularity = seconds(request["granularity"], "/granularity")
        db = runtime.current().db
        with db.read() as session:
            for index, monitored in enumerate(request["monitoredObject"]):
                monitored_service(session, monitored, caller, f"/monitoredObject/{index}")
        report = reports.new_report(PERFORMANCE, irp.name, PERFORMANCE.reports.new_id(), request)
        start, end = (parse(timeframe[n]).timestamp() for n in ("reportingStartDate", "reportingEndDate"))
        content: list[Document] = []
        for monitored in request["monitoredObject"]:
            content += content_for(PERFORMANCE, monitored, start, min(end, time.time()), granularity, request)
        with db.session() as session:
            ids = reports.record_report(
                PERFORMANCE, session, report, caller.party_id, content or None, "nothing was measured"
            )
        dispatch(ids)
        # Kylie's create answers the acknowledged request; the buyer is told when it is ready (step 5).
        acknowledged = {k: v for k, v in report.items() if k not in {"reportContent", "terminationError"}}
        return MefResponse({**acknowledged, "state": "acknowledged"}, status_code=201)

    return api
