"""The durable life of a job: one DBOS workflow per job, keyed by the job id, that waits (durably) for the
job's start, samples every granularity interval, and records a report at the end of every reporting period
— once: a report's id derives from the job and period, and each period is a recorded step, so a restarted
domain resumes the schedule without running a period twice.

Suspend, resume, cancel and modify change the job's state in their own transactions and wake the workflow
(``DBOS.send``), which re-reads the job before it acts.
"""

from __future__ import annotations

import logging
import math
import time
from datetime import UTC, datetime
from typing import Any

import httpx
from dbos import DBOS, SetWorkflowID

from lso.mef import runtime
from lso.mef.dates import iso
from lso.mef.notifications import dispatch
from lso.mef.store import Document
from lso.sof.assurance import alarms, measurements, reports
from lso.sof.assurance.jobs import (
    FAMILIES,
    FAULT,
    JOB_STATES,
    Family,
    irp_of,
    move_job,
    schedule_of,
    settings_of,
)
from lso.sof.presto_client import PrestoError

log = logging.getLogger(__name__)
WAKE = "job"
IDLE_WAIT_S = 300.0


def workflow_id(family: Family, job_id: str) -> str:
    return f"sof-{family.job}:{job_id}"


def start(family: Family, job_id: str) -> None:
    """Start the job's workflow — at most once: its id is the job's."""
    with SetWorkflowID(workflow_id(family, job_id)):
        DBOS.start_workflow(run_job, family.job, job_id)


def wake(family: Family, job_id: str) -> None:
    """Tell the job's workflow that the job changed (suspended, resumed, cancelled, modified)."""
    DBOS.send(workflow_id(family, job_id), "changed", WAKE)


@DBOS.workflow()
def run_job(family_name: str, job_id: str) -> str:
    dispatch(begin(family_name, job_id))
    tick = period = 0
    running = True
    while True:
        seen = observe(family_name, job_id)
        state, now = seen["state"], seen["now"]
        if JOB_STATES.is_final(state):
            return str(state)
        if state == "scheduled":
            if now < seen["start"]:
                DBOS.recv(WAKE, timeout_seconds=seen["start"] - now)
            else:
                dispatch(move(family_name, job_id, "inProgress"))
            continue
        if state != "inProgress":
            running = False
            DBOS.recv(WAKE, timeout_seconds=IDLE_WAIT_S)
            continue
        elapsed = now - seen["start"]
        if not running:  # resumed: periods that passed while suspended are not reported
            tick = max(tick, math.floor(elapsed / seen["granularity"]))
            period = max(period, math.floor(elapsed / seen["period"]))
            running = True
        due_sample = seen["start"] + (tick + 1) * seen["granularity"]
        due_report = seen["start"] + (period + 1) * seen["period"]
        if now < min(due_sample, due_report):
            DBOS.recv(WAKE, timeout_seconds=min(due_sample, due_report) - now)
            continue
        if now >= due_sample and due_sample <= due_report:
            collect(family_name, job_id, due_sample - seen["granularity"], due_sample)
            tick += 1
            continue
        if FAMILIES[family_name] is FAULT:
            dispatch(refresh_alarms())
        dispatch(report_period(family_name, job_id, period))
        period += 1
        next_start = seen["start"] + period * seen["period"]
        if not seen["recurring"] or (seen["end"] is not None and next_start >= seen["end"]):
            dispatch(move(family_name, job_id, "completed"))


@DBOS.step()
def begin(family_name: str, job_id: str) -> list[str]:
    """acknowledged → scheduled (a start in the future) or inProgress."""
    family = FAMILIES[family_name]
    with runtime.current().db.session() as session:
        job = family.jobs.get(session, job_id)
        if job["state"] != "acknowledged":
            return []
        when = schedule_of(family, session, job).start
        return move_job(family, session, job, "scheduled" if when > time.time() else "inProgress")


@DBOS.step()
def observe(family_name: str, job_id: str) -> dict[str, Any]:
    """The job's state and schedule, and the time: read in a step so a recovered workflow replays them."""
    family = FAMILIES[family_name]
    with runtime.current().db.read() as session:
        job = family.jobs.get(session, job_id)
        plan = schedule_of(family, session, job)
    return {
        "state": job["state"],
        "now": time.time(),
        "start": plan.start,
        "end": plan.end,
        "granularity": plan.granularity_s,
        "period": plan.reporting_period_s,
        "recurring": plan.recurring,
    }


@DBOS.step()
def move(family_name: str, job_id: str, state: str) -> list[str]:
    family = FAMILIES[family_name]
    with runtime.current().db.session() as session:
        job = family.jobs.get(session, job_id)
        if JOB_STATES.is_final(job["state"]) or not JOB_STATES.can(job["state"], state):
            return []  # cancelled meanwhile: the cancellation wins
        return move_job(family, session, job, state)


@DBOS.step()
def collect(family_name: str, job_id: str, start: float, end: float) -> bool:
    """Sample one granularity interval of a PM job's service (FM jobs read alarms at report time)."""
    family = FAMILIES[family_name]
    if family is FAULT:
        return True
    with runtime.current().db.read() as session:
        service_id = family.jobs.get(session, job_id)["monitoredObject"]["serviceId"]
    try:
        measurements.sample(service_id, measurements.Interval(start, end))
    except (PrestoError, httpx.HTTPError) as exc:  # a missed sample shows as a gap in the report
        log.warning("job %s: interval not sampled: %s", job_id, exc)
        return False
    return True


@DBOS.step()
def refresh_alarms() -> list[str]:
    try:
        return alarms.refresh()
    except (PrestoError, httpx.HTTPError) as exc:  # the report then says what SOF knew
        log.warning("alarms not refreshed from ICM: %s", exc)
        return []


@DBOS.step()
def report_period(family_name: str, job_id: str, period: int) -> list[str]:
    family = FAMILIES[family_name]
    db = runtime.current().db
    with db.read() as session:
        job = family.jobs.get(session, job_id)
        plan = schedule_of(family, session, job)
        settings = settings_of(family, session, job)
        party = family.jobs.party_of(session, job_id)
    start = plan.start + period * plan.reporting_period_s
    end = start + plan.reporting_period_s
    request: Document = {
        "description": f"Report of {family.job} {job_id}, period {period + 1}",
        "granularity": settings["granularity"],
        # A performance report lists its monitored objects; a fault management report names its one.
        "monitoredObject": job["monitoredObject"] if family is FAULT else [job["monitoredObject"]],
        "outputFormat": settings.get("outputFormat", "json"),
        "resultFormat": settings.get("resultFormat", "payload"),
        "reportingTimeframe": {"reportingStartDate": _iso(start), "reportingEndDate": _iso(end)},
        "serviceSpecificConfiguration": settings["serviceSpecificConfiguration"],
    }
    report = reports.new_report(family, irp_of(job), reports.report_id(job_id, period), request, job)
    content = content_for(family, job["monitoredObject"], start, end, plan.granularity_s, settings)
    with db.session() as session:
        return reports.record_report(family, session, report, party, content or None, "nothing was measured")


def content_for(
    family: Family, monitored: Document, start: float, end: float, granularity_s: float, settings: Document
) -> list[Document]:
    """The report content of one monitored service over [start, end): samples (PM) or alarms (FM)."""
    service_id = monitored["serviceId"]
    if family is FAULT:
        return alarms.report_content(service_id, start, end, monitored)
    try:
        samples = measurements.report_series(service_id, start, end, granularity_s)
    except (PrestoError, httpx.HTTPError) as exc:
        log.warning("%s of %s: measurements unavailable: %s", family.report, service_id, exc)
        return []
    return reports.content_of(monitored, samples, settings["granularity"])


def _iso(epoch: float) -> str:
    return iso(datetime.fromtimestamp(epoch, UTC))
