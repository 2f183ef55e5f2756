"""Element alarms as ICM sees them: ECM's ADAGIO alarm events → topology state, alarm records, reroutes.

ECM notifies ``alarmRaised``/``alarmCleared`` to ICM's listener (docs/adagio.md). On a raise, one
transaction marks the element, link or UNI operationally down (path computation then avoids it), records
the alarm with the connectivity services whose route uses the resource, plans their new routes and tells
SOF; then a reroute workflow per affected service configures the elements, started straight from the
listener so no poll and no further transaction delays the switch-over. A
clear marks the resource usable again (services are not moved back) and re-enables services that were
disabled only by it. Both are idempotent per alarm id: a duplicate or late event changes nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter
from sqlalchemy.orm import Session

from lso.db import Database
from lso.entity import EntityContext
from lso.icm import events, reroute, resources
from lso.icm.connectivity import INSTALLED, SERVICES
from lso.icm.topology import DISABLED, ENABLED, set_operational_state
from lso.mef.dates import now_iso
from lso.mef.errors import MefError
from lso.mef.notifications import NotificationApi, dispatch, listener_router
from lso.mef.store import Document, Store

log = logging.getLogger(__name__)

ALARMS = Store("icm.alarm", "alarm")
# ECM's alarm notifications (docs/adagio.md); the same names ECM publishes under.
ADAGIO_ALARMS = NotificationApi("adagio", "alarmNotification", "v1")
RAISED, CLEARED = "raised", "cleared"


def listener(db: Database) -> APIRouter:
    return listener_router(
        ADAGIO_ALARMS,
        {"alarmRaised": lambda body: on_raised(db, body), "alarmCleared": lambda body: on_cleared(db, body)},
        internal=True,  # an alarm makes ICM move services: only this domain's ECM may raise one
    )


def on_raised(db: Database, body: Document) -> None:
    alarm = _alarm_of(body)
    with db.session(serialize=resources.LOCK) as session:
        if ALARMS.find(session, alarm["id"]) is not None:
            return
        if not set_operational_state(session, alarm["source"], DISABLED):
            log.warning("alarm %s on %s: not in ICM's topology", alarm["id"], alarm["source"])
        affected = [s["id"] for s in SERVICES.all(session) if s["state"] == INSTALLED and _uses(s, alarm)]
        record = {**_record(alarm), "state": RAISED, "affectedConnectivityService": affected}
        ALARMS.add(session, record)
        deliveries = events.announce(session, events.ALARM_RAISED, record, f"{record['id']}:{RAISED}")
        for service_id in affected:  # planned here, the workflows start straight with the elements
            deliveries += _plan_reroute(session, service_id, f"alarm-{record['id']}")
    _start_reroutes(record)
    dispatch(deliveries)


def on_cleared(db: Database, body: Document) -> None:
    alarm = _alarm_of(body)
    with db.session(serialize=resources.LOCK) as session:
        record = ALARMS.find(session, alarm["id"])
        if record is not None and record["state"] == CLEARED:
            return
        cleared = {
            **(record or {**_record(alarm), "affectedConnectivityService": []}),
            "state": CLEARED,
            "clearedTime": alarm.get("clearedTime") or now_iso(),
        }
        ALARMS.put(session, cleared) if record else ALARMS.add(session, cleared)
        still_raised = ALARMS.list(
            session, party=None, filters={"state": RAISED, "source": alarm["source"]}, offset=0, limit=1
        )[1]
        if not still_raised:
            set_operational_state(session, alarm["source"], ENABLED)
        deliveries = events.announce(session, events.ALARM_CLEARED, cleared, f"{cleared['id']}:{CLEARED}")
        deliveries += _re_enable(session, f"alarm-{cleared['id']}")
    dispatch(deliveries)


def recover(ctx: EntityContext) -> None:
    """Restart the reroutes of raised alarms that a crash caught between recording and starting them."""
    with ctx.db.read() as session:
        raised, _ = ALARMS.list(session, party=None, filters={"state": RAISED}, offset=0, limit=100_000)
    for record in raised:
        _start_reroutes(record)


def query(db: Database, service_id: str | None, state: str | None) -> list[Document]:
    """ICM's alarm records, oldest first, optionally of one connectivity service and one state."""
    with db.read() as session:
        found = ALARMS.all(session)
    return [
        a
        for a in found
        if state in (None, a["state"]) and service_id in (None, *a["affectedConnectivityService"])
    ]


def _plan_reroute(session: Session, service_id: str, key: str) -> list[str]:
    try:
        return reroute.plan(session, service_id, key, [], False, on_alarm=True)[1]
    except reroute.RerouteBusy:
        return []  # its workflow waits for the reroute under way, then plans


def _start_reroutes(record: Document) -> None:
    for service_id in record["affectedConnectivityService"]:
        reroute.start(service_id, f"alarm-{record['id']}", on_alarm=True)


def _re_enable(session: Session, cause: str) -> list[str]:
    """Services disabled for want of a route work again once every part of their route does."""
    deliveries: list[str] = []
    for doc in SERVICES.all(session):
        disabled = doc["state"] == INSTALLED and doc.get("operationalState") == DISABLED
        if disabled and not doc.get("pendingRoute") and reroute.route_is_up(session, doc):
            deliveries += reroute.set_service_state(session, doc, ENABLED, cause)
    return deliveries


def _uses(service: Document, alarm: Document) -> bool:
    kind, _, target = alarm["source"].partition(":")
    if kind == "element":
        return target in service["route"]
    if kind == "link":
        return "--".join(sorted(target.split("--", 1))) in service["links"]
    element, _, port = target.partition("/")
    return any(ep["element"] == element and ep["port"] == port for ep in service["endPoints"])


def _alarm_of(body: Document) -> Document:
    alarm: Any = body.get("event")
    if (
        not isinstance(alarm, dict)
        or not isinstance(alarm.get("id"), str)
        or ":" not in str(alarm.get("source"))
    ):
        raise MefError(400, "an alarm event needs an id and a source", code="invalidBody")
    return alarm


def _record(alarm: Document) -> Document:
    return {
        "id": alarm["id"],
        "source": alarm["source"],
        "probableCause": alarm.get("probableCause"),
        "perceivedSeverity": alarm.get("perceivedSeverity"),
        "raisedTime": alarm.get("raisedTime") or now_iso(),
    }
