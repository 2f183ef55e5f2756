"""The job, task and report operations that performanceMonitoring and faultManagement share, for one
family on one IRP: list/get/create jobs, suspend/resume, cancel and modify tasks, reports, hub.

Creating a job validates it at once (a 422, nothing stored), stores it ``acknowledged`` and starts its
workflow (:mod:`schedule`), which moves it on. Cancel and modify are task resources processed right after
they are acknowledged; each change wakes the job's workflow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from lso.mef import runtime
from lso.mef.body import JsonBody, parse_model
from lso.mef.dates import normalise, now_iso
from lso.mef.errors import Issue, MefError, not_implemented, unprocessable
from lso.mef.http import MefResponse, no_content
from lso.mef.notifications import dispatch, hub_router, publish
from lso.mef.paging import MAX_LIMIT, list_page, page_of, page_response
from lso.mef.store import Document, Store
from lso.security.tokens import Caller
from lso.sof import records
from lso.sof.assurance import models, schedule
from lso.sof.assurance.access import Irp, audience
from lso.sof.assurance.jobs import CANCELLABLE, FAULT, MODIFIABLE, PROFILES, Family, move_job, move_task
from lso.sof.assurance.measurements import connectivity_service

# Builds a validated job document (without id/href/state) from a create body; may raise a 422.
JobParser = Callable[[Session, Any, Caller], Document]

_REPORT_FILTERS = {
    "serviceId": "monitoredObject.serviceId",
    "state": "state",
    "creationDateTime": "creationDateTime",
    "reportingTimeframe.startDate": "reportingTimeframe.reportingStartDate",
    "reportingTimeframe.endDate": "reportingTimeframe.reportingEndDate",
    "outputFormat": "outputFormat",
    "resultFormat": "resultFormat",
}


def job_filters(family: Family, extra: dict[str, str]) -> dict[str, str]:
    return {
        "serviceId": "monitoredObject.serviceId",
        "entityId": "monitoredObject.entityId",
        "state": "state",
        "creationDateTime": "creationDateTime",
        **extra,
    }


def monitored_service(session: Session, monitored: Document, caller: Caller, path: str) -> Document:
    """The EVC service a job or report monitors, or a 422 ``referenceNotFound`` (never another party's)."""
    if monitored.get("@type") != "ServiceRef":
        raise unprocessable(Issue(f"{path}/@type", "only ServiceRef monitored objects are offered"))
    service_id = str(monitored.get("serviceId") or "")
    service = records.SERVICES.find(session, service_id)
    if service is None or caller.party_id not in audience(session, service):
        raise unprocessable(
            Issue(f"{path}/serviceId", f"service {service_id} does not exist", "referenceNotFound")
        )
    if service.get("state") != "active" or connectivity_service(service) is None:
        raise unprocessable(Issue(f"{path}/serviceId", f"service {service_id} is not an active EVC"))
    return service


def schedule_fields(definition: Document, path: str) -> Document:
    """The schedule with its dates in the stored format; the end must follow the start."""
    out = dict(definition)
    for name in ("scheduleDefinitionStartTime", "scheduleDefinitionEndTime"):
        if out.get(name):
            out[name] = normalise(str(out[name]))
    start, end = out.get("scheduleDefinitionStartTime"), out.get("scheduleDefinitionEndTime")
    if start and end and end <= start:
        raise unprocessable(Issue(f"{path}/scheduleDefinitionEndTime", "the end must follow the start"))
    return out


def job_router(family: Family, irp: Irp, parse_job: JobParser, filters: dict[str, str]) -> APIRouter:
    api = APIRouter()
    jobs = family.jobs
    name = family.job_type_name

    @api.get(f"/{family.job}")
    def list_jobs(request: Request, caller: Caller = irp.depends) -> MefResponse:
        return list_page(runtime.current().db, jobs, request, caller.party_id, job_filters(family, filters))

    @api.post(f"/{family.job}", status_code=201)
    def create_job(body: JsonBody, caller: Caller = irp.depends) -> MefResponse:
        with runtime.current().db.session() as session:
            job = parse_job(session, body, caller)
            job["id"] = jobs.new_id()
            job["href"] = family.href(irp.name, f"{family.job}/{job['id']}")
            job["creationDateTime"] = job["lastTimeModified"] = now_iso()
            job["state"] = "acknowledged"
            jobs.add(session, job, party=caller.party_id, parent_id=job["monitoredObject"]["serviceId"])
            ids = publish(
                session,
                family.events(irp.name),
                caller.party_id,
                f"{family.job}CreateEvent",
                {"id": job["id"], "href": job["href"]},
                f"{job['id']}:create",
            )
        dispatch(ids)
        schedule.start(family, job["id"])
        return MefResponse(job, status_code=201)

    @api.get(f"/{family.job}/{{job_id}}")
    def retrieve_job(job_id: str, caller: Caller = irp.depends) -> MefResponse:
        with runtime.current().db.read() as session:
            return MefResponse(jobs.get(session, job_id, caller.party_id))

    def _switch(job_id: str, caller: Caller, allowed: set[str], target: str) -> Response:
        with runtime.current().db.session() as session:
            job = jobs.get(session, job_id, caller.party_id)
            if job["state"] not in allowed:
                raise unprocessable(
                    Issue("/state", f"{family.job} {job_id} is {job['state']}: it cannot become {target}")
                )
            ids = move_job(family, session, job, target)
        dispatch(ids)
        schedule.wake(family, job_id)
        return no_content()

    @api.post(f"/{family.job}/{{job_id}}/suspend", status_code=204)
    def suspend_job(job_id: str, caller: Caller = irp.depends) -> Response:
        return _switch(job_id, caller, {"inProgress"}, "suspended")

    @api.post(f"/{family.job}/{{job_id}}/resume", status_code=204)
    def resume_job(job_id: str, caller: Caller = irp.depends) -> Response:
        return _switch(job_id, caller, {"suspended"}, "inProgress")

    api.include_router(_task_router(family, irp, family.cancels, f"cancel{name}", _cancel))
    api.include_router(_task_router(family, irp, family.modifies, f"modify{name}", _modify))

    @api.post(f"/{family.job}ComplexQuery")
    def job_complex_query(body: JsonBody, caller: Caller = irp.depends) -> MefResponse:
        return _complex_query(jobs, body, caller)

    @api.get(f"/{family.report}")
    def list_reports(request: Request, caller: Caller = irp.depends) -> MefResponse:
        paths = {**_REPORT_FILTERS, f"{family.job}Id": f"{family.job}.{family.job}Id"}
        page = page_of(request, set(paths))
        filters = {}
        for name, value in page.filters.items():
            base, operator = (name[:-3], name[-3:]) if name.endswith((".gt", ".lt")) else (name, "")
            filters[paths[base] + operator] = value
        found, total = _matching(family.reports, caller, filters, page.offset, page.limit)
        return page_response(found, total, page)

    @api.get(f"/{family.report}/{{report_id}}")
    def retrieve_report(report_id: str, caller: Caller = irp.depends) -> MefResponse:
        with runtime.current().db.read() as session:
            return MefResponse(family.reports.get(session, report_id, caller.party_id))

    @api.post(f"/{family.report}ComplexQuery")
    def report_complex_query(body: JsonBody, caller: Caller = irp.depends) -> MefResponse:
        return _complex_query(family.reports, body, caller)

    @api.get("/trackingRecord")
    def list_tracking_record(caller: Caller = irp.depends) -> MefResponse:
        raise not_implemented("listTrackingRecord")

    tag = f"{irp.name} {family.api}"
    api.include_router(hub_router(family.events(irp.name), tag, authorise=irp.depends, invalid_status=400))
    return api


_QUERY_PATHS = {
    "reportingTimeframe.startDate": "reportingTimeframe.reportingStartDate",
    "reportingTimeframe.endDate": "reportingTimeframe.reportingEndDate",
}


def _complex_query(store: Store, body: Any, caller: Caller) -> MefResponse:
    """A ``…ComplexQuery``: every scalar the body gives (nested ones by dotted path, ``.gt``/``.lt`` on
    dates) must match."""
    if not isinstance(body, dict):
        raise MefError(400, "The request body must be a JSON object", code="invalidBody")
    filters: dict[str, str] = {}
    for path, value in _flatten(body):
        base, operator = (path[:-3], path[-3:]) if path.endswith((".gt", ".lt")) else (path, "")
        filters[_QUERY_PATHS.get(base, base).replace(".0.", ".") + operator] = value
    found, _ = _matching(store, caller, filters, 0, MAX_LIMIT)
    return MefResponse(found)


def _matching(
    store: Store, caller: Caller, filters: dict[str, str], offset: int, limit: int
) -> tuple[list[Document], int]:
    """A page of ``store`` matching ``filters``; ``monitoredObject.…`` ones are matched here because a
    performance report lists its monitored objects (the database filters only on single values)."""
    monitored = {k.split(".", 1)[1]: v for k, v in filters.items() if k.startswith("monitoredObject.")}
    plain = {k: v for k, v in filters.items() if not k.startswith("monitoredObject.")}
    with runtime.current().db.read() as session:
        if not monitored:
            return store.list(session, party=caller.party_id, filters=plain, offset=offset, limit=limit)
        every, _ = store.list(session, party=caller.party_id, filters=plain, offset=0, limit=100_000)
    found = [doc for doc in every if _monitors(doc.get("monitoredObject"), monitored)]
    return found[offset : offset + limit], len(found)


def _monitors(value: Any, wanted: dict[str, str]) -> bool:
    objects = value if isinstance(value, list) else [value]
    return any(isinstance(o, dict) and all(str(o.get(k)) == v for k, v in wanted.items()) for o in objects)


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [pair for key, inner in value.items() for pair in _flatten(inner, f"{prefix}{key}.")]
    if isinstance(value, list):
        return _flatten(value[0], f"{prefix}0.") if value else []
    if isinstance(value, bool):
        return [(prefix[:-1], "true" if value else "false")]
    return [(prefix[:-1], str(value))]


TaskAction = Callable[[Family, Session, Document, Document], list[str]]


def _task_router(family: Family, irp: Irp, store: Store, resource: str, act: TaskAction) -> APIRouter:
    """cancel…Job / modify…Job: create (processed at once after acknowledgement), list, get."""
    api = APIRouter()
    ref_name = family.job

    @api.get(f"/{resource}")
    def list_tasks(request: Request, caller: Caller = irp.depends) -> MefResponse:
        paths = {
            f"{ref_name}Id": f"{ref_name}.{ref_name}Id",
            "state": "state",
            "creationDateTime": "creationDateTime",
        }
        return list_page(runtime.current().db, store, request, caller.party_id, paths)

    @api.post(f"/{resource}", status_code=201)
    def create_task(body: JsonBody, caller: Caller = irp.depends) -> MefResponse:
        if not isinstance(body, dict):
            raise MefError(400, "The request body must be a JSON object", code="invalidBody")
        job_id = family.job_id_of(body.get(ref_name))
        path = f"/{ref_name}/{ref_name}Id"
        db = runtime.current().db
        with db.session() as session:
            job = family.jobs.find(session, job_id or "", caller.party_id)
            if job is None:
                raise unprocessable(Issue(path, f"{ref_name} {job_id} does not exist", "referenceNotFound"))
            allowed = CANCELLABLE if act is _cancel else MODIFIABLE
            if job["state"] not in allowed:
                raise unprocessable(Issue(path, f"{ref_name} {job_id} is {job['state']}"))
            if act is _modify:
                modified(family, session, job, body)
            task = {**body, "id": store.new_id(), "creationDateTime": now_iso(), "state": "acknowledged"}
            task[ref_name] = family.job_ref(job)
            task["href"] = family.href(irp.name, f"{resource}/{task['id']}")
            store.add(session, task, party=caller.party_id)
            answer = dict(task)
        with db.session() as session:  # processed after the acknowledgement is stored, as Kylie describes
            task = store.get(session, answer["id"])
            job = family.jobs.get(session, job_id or "")
            ids = move_task(family, store, session, task, "inProgress")
            ids += act(family, session, job, task)
            ids += move_task(family, store, session, task, "completed")
        dispatch(ids)
        schedule.wake(family, job_id or "")
        return MefResponse(answer, status_code=201)

    @api.get(f"/{resource}/{{task_id}}")
    def retrieve_task(task_id: str, caller: Caller = irp.depends) -> MefResponse:
        with runtime.current().db.read() as session:
            return MefResponse(store.get(session, task_id, caller.party_id))

    return api


def _cancel(family: Family, session: Session, job: Document, _task: Document) -> list[str]:
    return move_job(family, session, job, "pendingCancel") + move_job(family, session, job, "cancelled")


def _modify(family: Family, session: Session, job: Document, task: Document) -> list[str]:
    """Apply the modification while the job is ``pending``, then return it to where its schedule says."""
    resume = "scheduled" if job["state"] == "scheduled" else "inProgress"
    changed = modified(family, session, job, task)
    ids = move_job(family, session, job, "pending")
    job.update({k: v for k, v in changed.items() if k not in {"state", "lastTimeModified"}})
    return ids + move_job(family, session, job, resume)


_SETTINGS = (
    "granularity",
    "jobPriority",
    "outputFormat",
    "reportingPeriod",
    "resultFormat",
    "serviceSpecificConfiguration",
)


def modified(family: Family, session: Session, job: Document, change: Document) -> Document:
    """The job as a modify request ``change`` leaves it; a 422 when that would not be a valid job, so a
    bad modification is refused before anything is stored."""
    new = dict(job)
    for name in ("description", "buyerJobId", "consumingApplicationId", "producingApplicationId"):
        if change.get(name) is not None:
            new[name] = change[name]
    if isinstance(change.get("scheduleDefinition"), dict):
        schedule_change = schedule_fields(change["scheduleDefinition"], "/scheduleDefinition")
        new["scheduleDefinition"] = {**job.get("scheduleDefinition", {}), **schedule_change}
    if family is FAULT:
        new.update({k: change[k] for k in _SETTINGS if k in change})
        parse_model(models.JobSettings, {k: new[k] for k in (*_SETTINGS, "jobType") if k in new})
    elif isinstance(change.get("performanceProfile"), dict):
        wanted = {k: v for k, v in change["performanceProfile"].items() if k in _SETTINGS}
        profile = {**profile_value(session, job["performanceProfile"]), **wanted}
        parse_model(models.PerformanceProfileValue, profile, "/performanceProfile")
        new["performanceProfile"] = profile
    return new


def profile_value(session: Session, profile: Document) -> Document:
    """A job's profile by value (a referenced profile is copied, so modifying the job leaves it alone)."""
    if profile.get("@type") != "PerformanceProfileRef":
        return dict(profile)
    stored = PROFILES.get(session, profile["performanceProfileId"])
    keep = ("granularity", "jobType", "outputFormat", "reportingPeriod", "resultFormat", "jobPriority")
    value = {k: stored[k] for k in keep if k in stored}
    value["serviceSpecificConfiguration"] = stored["serviceSpecificConfiguration"]
    return {"@type": "PerformanceProfileValue", **value}
