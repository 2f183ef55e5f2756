"""Performance and fault management reports: how they are recorded and announced (§10.4 steps 5 and 6).

:func:`record_report` is the one way a report comes to exist — from a job's period, a buyer's on-demand
request, or a threshold crossing (the SLS assessment's TCA) — so every report has the same shape and
every one is announced: ``<report>CreateEvent``, ``<report>StateChangeEvent`` and, for a job's report,
``<job>ReportReadyEvent`` (or ``…ReportPreparationErrorEvent`` when nothing could be measured).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from lso.mef.dates import now_iso
from lso.mef.notifications import publish
from lso.mef.statemachine import StateMachine
from lso.mef.store import Document
from lso.sof.assurance.jobs import Family, irp_of

REPORT_STATES = StateMachine(
    "report",
    {"acknowledged": ["inProgress", "rejected"], "inProgress": ["completed", "failed"]},
)
_NAMESPACE = uuid.UUID("6d0b7c1e-4f52-4b8e-a7a1-3f5a8c2d9e10")


def report_id(job_id: str, period: int) -> str:
    """A job's report of one period has a fixed id, so a re-run step never records it twice."""
    return str(uuid.uuid5(_NAMESPACE, f"{job_id}:{period}"))


def new_report(
    family: Family, irp: str, ident: str, request: Document, job: Document | None = None
) -> Document:
    """An acknowledged report document for ``request`` (a PerformanceReport_Create-shaped dict)."""
    report: Document = {
        **request,
        "id": ident,
        "href": family.href(irp, f"{family.report}/{ident}"),
        "creationDateTime": now_iso(),
        "state": "acknowledged",
    }
    if job is not None:
        report[family.job] = family.job_ref(job)
    return report


def record_report(
    family: Family,
    session: Session,
    report: Document,
    party: str | None,
    content: list[Document] | None,
    reason: str | None = None,
) -> list[str]:
    """Store ``report`` completed with ``content`` (or failed with ``reason`` when content is None) and
    queue its events; returns the delivery ids to dispatch after commit. Idempotent by report id."""
    if family.reports.find(session, report["id"]) is not None:
        return []
    if family.job not in report:
        report[family.job] = family.job_ref(_on_demand_job(family, session, report, party))
    REPORT_STATES.move(report, "inProgress", history=None)
    if content is None:
        REPORT_STATES.move(report, "failed", history=None)
        report["terminationError"] = [{"code": "otherIssue", "value": reason or "nothing was measured"}]
    else:
        REPORT_STATES.move(report, "completed", history=None)
        report["reportContent"] = content
    family.reports.add(session, report, party=party)
    return announce(family, session, report, party)


def _on_demand_job(family: Family, session: Session, report: Document, party: str | None) -> Document:
    """The completed on-demand job behind a report asked for directly (createPerformanceReport, a TCA).

    Kylie lists every report with the job that produced it, so such a report gets one: its settings are
    the report's, its schedule the report's timeframe.
    """
    ident = str(uuid.uuid5(_NAMESPACE, f"on-demand:{report['id']}"))
    monitored = report["monitoredObject"][0]
    timeframe = report["reportingTimeframe"]
    job: Document = {
        "id": ident,
        "href": family.href(irp_of(report), f"{family.job}/{ident}"),
        "creationDateTime": report["creationDateTime"],
        "lastTimeModified": report["creationDateTime"],
        "state": "completed",
        "description": f"The on-demand job of {family.report} {report['id']}",
        "monitoredObject": monitored,
        "performanceProfile": {
            "@type": "PerformanceProfileValue",
            "jobType": "on-demand",
            "granularity": report["granularity"],
            "reportingPeriod": report["granularity"],
            "outputFormat": report["outputFormat"],
            "resultFormat": report["resultFormat"],
            "serviceSpecificConfiguration": report["serviceSpecificConfiguration"],
        },
        "scheduleDefinition": {
            "scheduleDefinitionStartTime": timeframe["reportingStartDate"],
            "scheduleDefinitionEndTime": timeframe["reportingEndDate"],
        },
    }
    if family.jobs.find(session, ident) is None:
        family.jobs.add(session, job, party=party, parent_id=monitored.get("serviceId"))
    return job


def announce(family: Family, session: Session, report: Document, party: str | None) -> list[str]:
    api = family.events(irp_of(report))
    ref = {"id": report["id"], "href": report["href"]}
    ids = publish(session, api, party, f"{family.report}CreateEvent", ref, f"{report['id']}:create")
    ids += publish(
        session,
        api,
        party,
        f"{family.report}StateChangeEvent",
        {**ref, "state": report["state"]},
        f"{report['id']}:state:{report['state']}",
    )
    job_id = family.job_id_of(report.get(family.job))
    if job_id is not None:
        job_href = report[family.job].get(f"{family.job}Href")
        if report["state"] == "completed":
            event: dict[str, Any] = {"id": job_id, "href": job_href, "reportId": report["id"]}
            event["reportHref"] = report["href"]
            ids += publish(
                session, api, party, f"{family.job}ReportReadyEvent", event, f"{report['id']}:ready"
            )
        else:
            event = {"id": job_id, "href": job_href}
            ids += publish(
                session,
                api,
                party,
                f"{family.job}ReportPreparationErrorEvent",
                event,
                f"{report['id']}:error",
            )
    return ids


def content_of(monitored_object: Document, samples: list[Document], granularity: Document) -> list[Document]:
    """``reportContent`` for one monitored object: one item per measured interval."""
    items = [
        {
            "measurementTime": {
                "measurementStartDate": s["measurementStartDate"],
                "measurementEndDate": s["measurementEndDate"],
                "measurementInterval": granularity,
            },
            "measurementData": s["measurement"],
        }
        for s in samples
        if s["measurement"]
    ]
    return [{"monitoredObject": monitored_object, "reportContentItem": items}] if items else []
