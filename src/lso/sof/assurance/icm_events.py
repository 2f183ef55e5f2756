"""What ICM pushes up over PRESTO and what SLS assessment does with it (MEF 55.0.1 §10.6 step 1, note).

ICM publishes its alarms and what they did to connectivity services on its ``lso-notifications`` hub
(docs/presto.md). For SOF each of them is a TCA-like hint: the services it names are assessed at once
instead of at their next period, and a reroute ICM made on its own is written into the service's
``path`` so the SLS remediation plans from the path the service really takes. An alarm also becomes the
alarmManagement alarms of the parties of the services it affects, announced on their alarm hubs as it
happens (not when someone next reads the alarm list).
"""

from __future__ import annotations

from dbos import DBOS, SetWorkflowID
from fastapi import APIRouter
from sqlalchemy.orm import Session

from lso.entity import EntityContext
from lso.mef import runtime
from lso.mef.notifications import NotificationApi, dispatch, listener_router
from lso.mef.store import Document, Store
from lso.sof import activation, records
from lso.sof.assurance import alarms, sls

ICM_EVENTS = NotificationApi("presto", "lsoNotification", "v1")
ALARM_EVENT_TYPES = ("alarmRaised", "alarmCleared")
EVENT_TYPES = (
    *ALARM_EVENT_TYPES,
    "connectivityServiceRerouted",
    "connectivityServiceOperationalStateChanged",
)
HUBS = Store("sof.prestoHub", "prestoHub")
_HUB = "lsoNotification"


def router() -> APIRouter:
    return listener_router(ICM_EVENTS, dict.fromkeys(EVENT_TYPES, on_icm_event), internal=True)


def recover(_ctx: EntityContext) -> None:
    """Subscribe once per domain, in the background (the server is not listening yet at start)."""
    with SetWorkflowID("sof-subscribe-icm-events"):
        DBOS.start_workflow(subscribe)


@DBOS.workflow(name="sof.subscribe_icm_events")
def subscribe() -> None:
    register_hub()


@DBOS.step(retries_allowed=True, max_attempts=10, interval_seconds=0.5, backoff_rate=2.0)
def register_hub() -> None:
    rt = runtime.current()
    with rt.db.read() as session:
        if HUBS.find(session, _HUB) is not None:
            return
    hub = activation.presto().register_notification_hub(rt.settings.base_url)
    with rt.db.session() as session:
        if HUBS.find(session, _HUB) is None:
            HUBS.add(session, {"id": _HUB, "hubId": hub["id"]})


def on_icm_event(body: Document) -> None:
    event = body.get("event")
    if not isinstance(event, dict):
        return
    if body.get("eventType") in ALARM_EVENT_TYPES:
        # Idempotent per event: the alarm ids derive from ICM's alarm id and the party, a create or a
        # clear is recorded once, and its deliveries have fixed ids (a redelivered event adds nothing).
        dispatch(alarms.record([event]))
        affected = [str(uuid) for uuid in event.get("affectedConnectivityService") or []]
    else:
        affected = [str(event.get("id"))]
    for connectivity in affected:
        with runtime.current().db.session() as session:
            service_id = sls.service_of_connectivity(session, connectivity)
            if service_id is not None and isinstance(event.get("route"), list):
                _follow_route(session, service_id, [str(hop) for hop in event["route"]])
        if service_id is not None:
            sls.trigger(service_id)


def _follow_route(session: Session, service_id: str, route: list[str]) -> None:
    service = records.SERVICES.get(session, service_id)
    records.characteristic(service, "path", route)
    records.SERVICES.put(session, service)
