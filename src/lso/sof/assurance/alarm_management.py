"""Alarm Management v3 (Kylie) on one IRP: the alarms on the caller's services, and their hub.

Reading refreshes SOF's alarms from ICM first (PRESTO ``lso-get-alarms``), so a list is as current as
ICM; the refresh's create/state-change events go to every hub of the parties concerned.
"""

from __future__ import annotations

import logging

import httpx
from fastapi import APIRouter, Request

from lso.mef import runtime
from lso.mef.http import MefResponse
from lso.mef.notifications import dispatch, hub_router
from lso.mef.paging import page_of, page_response
from lso.security.tokens import Caller
from lso.sof.assurance import alarms
from lso.sof.assurance.access import Irp
from lso.sof.presto_client import PrestoError

log = logging.getLogger(__name__)

_FILTERS = {
    "id": "id",
    "alarmChangedTime": "alarmChangedTime",
    "alarmClearedTime": "alarmClearedTime",
    "alarmReportingTime": "alarmReportingTime",
    "alarmType": "alarmType",
    "alarmedObjectType": "alarmedObjectType",
    "perceivedSeverity": "perceivedSeverity",
    "plannedOutageIndicator": "plannedOutageIndicator",
    "reportingSystemId": "reportingSystemId",
    "serviceAffecting": "serviceAffecting",
    "state": "state",
}


def _refresh() -> None:
    try:
        dispatch(alarms.refresh())
    except (PrestoError, httpx.HTTPError) as exc:  # ICM unreachable: answer with what SOF knows
        log.warning("alarms not refreshed from ICM: %s", exc)


def router(irp: Irp) -> APIRouter:
    api = APIRouter(prefix=alarms.base(irp.name), tags=[f"{irp.name.upper()} alarmManagement"])
    tag = f"{irp.name.upper()} alarmManagement"
    api.include_router(hub_router(alarms.events(irp.name), tag, authorise=irp.depends, invalid_status=400))

    @api.get("/alarm")
    def list_alarms(request: Request, caller: Caller = irp.depends) -> MefResponse:
        page = page_of(request, {*_FILTERS, "affectedServiceId", "correlatedAlarmId"})
        _refresh()
        filters = {
            k: v
            for k, v in page.filters.items()
            if not k.startswith(("affectedServiceId", "correlatedAlarmId"))
        }
        service = page.filters.get("affectedServiceId")
        with runtime.current().db.read() as session:
            found, _ = alarms.ALARMS.list(
                session, party=caller.party_id, filters=filters, offset=0, limit=100_000
            )
        if service is not None:
            found = [a for a in found if any(s["id"] == service for s in a.get("affectedService", []))]
        items = [alarms.as_served(a, irp.name) for a in found[page.offset : page.offset + page.limit]]
        return page_response(items, len(found), page)

    @api.get("/alarm/{alarm_id}")
    def retrieve_alarm(alarm_id: str, caller: Caller = irp.depends) -> MefResponse:
        _refresh()
        with runtime.current().db.read() as session:
            return MefResponse(
                alarms.as_served(alarms.ALARMS.get(session, alarm_id, caller.party_id), irp.name)
            )

    return api
