"""Performance and fault management jobs: their families, stores, state machines and state changes.

Kylie's performanceMonitoring and faultManagement APIs are the same shape under two names (job, report,
cancel and modify tasks, the same state enums and events), so one :class:`Family` describes each and the
rest of the package is written once. Every state change publishes its event on the notification API of
the IRP the job was created on, in the transaction of the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from lso.mef import runtime
from lso.mef.dates import now_iso, parse
from lso.mef.errors import Issue, unprocessable
from lso.mef.notifications import NotificationApi, publish
from lso.mef.statemachine import StateMachine
from lso.mef.store import Document, Store

_SECONDS = {
    "NS": 1e-9,
    "US": 1e-6,
    "MS": 1e-3,
    "SEC": 1.0,
    "MIN": 60.0,
    "HOUR": 3600.0,
    "DAY": 86_400.0,
    "WEEK": 604_800.0,
    "MONTH": 2_592_000.0,
    "YEAR": 31_536_000.0,
}


@dataclass(frozen=True)
class Family:
    """performanceMonitoring (jobs use a performanceProfile) or faultManagement (jobs carry their own)."""

    job: str
    report: str
    api: str
    version: str
    notification: str

    @property
    def job_type_name(self) -> str:
        return self.job[0].upper() + self.job[1:]

    @property
    def jobs(self) -> Store:
        return Store(f"sof.{self.job}", self.job)

    @property
    def reports(self) -> Store:
        return Store(f"sof.{self.report}", self.report)

    @property
    def cancels(self) -> Store:
        return Store(f"sof.cancel{self.job_type_name}", f"cancel{self.job_type_name}")

    @property
    def modifies(self) -> Store:
        return Store(f"sof.modify{self.job_type_name}", f"modify{self.job_type_name}")

    def base(self, irp: str) -> str:
        return f"/mefApi/{irp}/{self.api}/{self.version}"

    def events(self, irp: str) -> NotificationApi:
        return NotificationApi(irp, self.notification, self.version)

    def href(self, irp: str, path: str) -> str:
        return f"{runtime.current().settings.base_url}{self.base(irp)}/{path}"

    def job_ref(self, job: Document) -> Document:
        return {
            "@type": f"{self.job_type_name}Ref",
            f"{self.job}Id": job["id"],
            f"{self.job}Href": job["href"],
        }

    def job_id_of(self, ref: Any) -> str | None:
        return ref.get(f"{self.job}Id") if isinstance(ref, dict) else None


PERFORMANCE = Family(
    "performanceJob", "performanceReport", "performanceMonitoring", "v5", "performanceNotification"
)
FAULT = Family("faultManagementJob", "faultManagementReport", "faultManagement", "v3", "faultNotification")
FAMILIES = {family.job: family for family in (PERFORMANCE, FAULT)}

JOB_STATES = StateMachine(
    "job",
    {
        "acknowledged": ["scheduled", "inProgress", "rejected", "pendingCancel"],
        "scheduled": ["inProgress", "pending", "pendingCancel", "resourcesUnavailable"],
        "inProgress": ["completed", "suspended", "pending", "pendingCancel", "resourcesUnavailable"],
        "suspended": ["inProgress", "pending", "pendingCancel"],
        "pending": ["scheduled", "inProgress"],
        "pendingCancel": ["cancelled"],
        "resourcesUnavailable": ["inProgress", "pendingCancel"],
    },
)
TASK_STATES = StateMachine(
    "job task", {"acknowledged": ["inProgress", "rejected"], "inProgress": ["completed", "rejected"]}
)
CANCELLABLE = {"acknowledged", "scheduled", "inProgress", "suspended", "resourcesUnavailable"}
MODIFIABLE = {"scheduled", "inProgress", "suspended"}


def irp_of(doc: Document) -> str:
    """The IRP a resource was created on, read from its href (``…/mefApi/<irp>/…``)."""
    return str(doc["href"]).split("/mefApi/", 1)[1].split("/", 1)[0]


def seconds(duration: Any, path: str) -> float:
    """A Kylie ``TimeDuration`` in seconds, or a 422 at ``path``."""
    value = duration.get("timeDurationValue") if isinstance(duration, dict) else None
    units = duration.get("timeDurationUnits") if isinstance(duration, dict) else None
    if not isinstance(value, int) or value <= 0 or units not in _SECONDS:
        raise unprocessable(Issue(path, f"{path} must be a positive TimeDuration", "invalidValue"))
    return value * _SECONDS[units]


@dataclass(frozen=True)
class Schedule:
    """When a job measures and reports: epoch seconds so the runner's arithmetic stays simple."""

    job_type: str
    granularity_s: float
    reporting_period_s: float
    start: float
    end: float | None

    @property
    def recurring(self) -> bool:
        return self.job_type == "proactive"


def settings_of(family: Family, session: Session, job: Document) -> Document:
    """granularity, reportingPeriod, jobType… of a job: its profile's for PM, its own for FM."""
    if family is FAULT:
        return job
    profile = job["performanceProfile"]
    if profile.get("@type") == "PerformanceProfileRef":
        return PROFILES.get(session, profile["performanceProfileId"])
    return dict(profile)


def schedule_of(family: Family, session: Session, job: Document) -> Schedule:
    settings = settings_of(family, session, job)
    definition = job.get("scheduleDefinition") or {}
    start = definition.get("scheduleDefinitionStartTime") or job["creationDateTime"]
    end = definition.get("scheduleDefinitionEndTime")
    granularity = seconds(settings["granularity"], "/granularity")
    period = seconds(settings["reportingPeriod"], "/reportingPeriod")
    if settings["jobType"] != "proactive":  # one measurement run, as long as the job says it executes
        execution = definition.get("executionDuration")
        period = seconds(execution, "/scheduleDefinition/executionDuration") if execution else granularity
    return Schedule(
        job_type=settings["jobType"],
        granularity_s=min(granularity, period),
        reporting_period_s=period,
        start=parse(start).timestamp(),
        end=parse(end).timestamp() if end else None,
    )


PROFILES = Store("sof.performanceProfile", "performanceProfile")


def move_job(family: Family, session: Session, job: Document, state: str) -> list[str]:
    """Move the job and queue its StateChangeEvent; [] when it is already there."""
    if not JOB_STATES.move(job, state, history=None):
        return []
    job["lastTimeModified"] = now_iso()
    family.jobs.put(session, job)
    event = {"id": job["id"], "href": job["href"], "state": state}
    return publish(
        session,
        family.events(irp_of(job)),
        family.jobs.party_of(session, job["id"]),
        f"{family.job}StateChangeEvent",
        event,
        # A job may return to a state (resume after suspend): the change's time tells the events apart.
        event_id=f"{job['id']}:state:{state}:{job['lastTimeModified']}",
    )


def move_task(family: Family, store: Store, session: Session, task: Document, state: str) -> list[str]:
    """Move a cancel/modify task and queue its StateChangeEvent."""
    if not TASK_STATES.move(task, state, history=None):
        return []
    store.put(session, task)
    event = {"id": task["id"], "href": task["href"], "state": state}
    return publish(
        session,
        family.events(irp_of(task)),
        store.party_of(session, task["id"]),
        f"{store.label}StateChangeEvent",
        event,
        event_id=f"{task['id']}:state:{state}",
    )
