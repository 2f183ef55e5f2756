"""Fault Management v3 (Kylie) on one IRP: jobs that report the alarms on a service per period.

Everything but the job body is shared with performance monitoring (:mod:`routes`); a fault management job
carries its granularity, reporting period and formats itself instead of a profile, and its reports list
the alarms that affected the service (:func:`alarms.report_content`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy.orm import Session

from lso.mef.body import parse_model
from lso.mef.store import Document
from lso.security.tokens import Caller
from lso.sof.assurance import models
from lso.sof.assurance.access import Irp
from lso.sof.assurance.jobs import FAULT
from lso.sof.assurance.routes import job_router, monitored_service, schedule_fields

_JOB_FILTERS = {
    "jobType": "jobType",
    "jobPriority": "jobPriority",
    "serviceFromId": "monitoredObject.serviceFrom.id",
    "serviceToId": "monitoredObject.serviceTo.id",
}


def parse_job(session: Session, body: Any, caller: Caller) -> Document:
    parsed = parse_model(models.FaultManagementJobCreate, body)
    job: Document = parsed.model_dump(mode="json", by_alias=True, exclude_none=True)
    monitored_service(session, job["monitoredObject"], caller, "/monitoredObject")
    job["scheduleDefinition"] = schedule_fields(job["scheduleDefinition"], "/scheduleDefinition")
    return job


def router(irp: Irp) -> APIRouter:
    api = APIRouter(prefix=FAULT.base(irp.name), tags=[f"{irp.name.upper()} faultManagement"])
    api.include_router(job_router(FAULT, irp, parse_job, _JOB_FILTERS))
    return api
