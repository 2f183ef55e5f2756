"""ICM's notifications on PRESTO (an lso extension, docs/presto.md): alarms and what they did to services.

SOF registers ``POST /restconf/operations/lso-notifications/hub {callback, query?}`` and receives
``alarmRaised``, ``alarmCleared``, ``connectivityServiceRerouted`` and
``connectivityServiceOperationalStateChanged`` at ``callback + /mefApi/presto/lsoNotification/v1/
listener/<eventType>``. The event ``id`` is the alarm id or the connectivity service uuid.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from lso.mef.notifications import NotificationApi, hub_router, publish
from lso.mef.store import Document
from lso.security.tokens import InternalDep

PRESTO_NOTIFICATIONS = NotificationApi("presto", "lsoNotification", "v1")
ALARM_RAISED = "alarmRaised"
ALARM_CLEARED = "alarmCleared"
REROUTED = "connectivityServiceRerouted"
OPERATIONAL_STATE_CHANGED = "connectivityServiceOperationalStateChanged"


def announce(session: Session, event_type: str, event: Document, event_id: str) -> list[str]:
    """Queue an event for every internal subscriber, in the caller's transaction; dispatch after commit.

    ``event_id`` is derived from what happened (alarm id, reroute key) so a re-run step sends the same
    event, which subscribers discard as a duplicate.
    """
    return publish(session, PRESTO_NOTIFICATIONS, None, event_type, event, event_id)


async def _internal_only(_caller: InternalDep) -> None:
    """PRESTO is internal: only this domain's entities subscribe."""


def presto_hub_router() -> APIRouter:
    router = APIRouter(
        prefix="/restconf/operations/lso-notifications", dependencies=[Depends(_internal_only)]
    )
    router.include_router(hub_router(PRESTO_NOTIFICATIONS, "PRESTO"))
    return router
