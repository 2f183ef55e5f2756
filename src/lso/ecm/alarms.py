"""Element alarms: one record per fault, told to ICM over ADAGIO's alarm notifications.

Every driver (``sim``, ``linux``) raises and clears alarms here, so ``GET /adagio/v1/alarms`` answers the
same way whatever noticed the fault. Raising is idempotent per source: a source has at most one raised
alarm, and raising it again changes nothing — drivers that see a fault twice (a netlink flap, an admin
retry) do not flood ICM. The notification is written to the outbox in the caller's transaction, so an
alarm is never stored without ICM being told, nor told without being stored; the caller dispatches the
returned delivery ids once the transaction has committed.

ICM hears about alarms through the standard hub mechanism: on start ECM keeps a hub for its own
domain's ICM (the ``icm`` hub, callback = where ICM is served), so no alarm can precede ICM's
subscription; other internal consumers may register their own hub at ``/adagio/v1/alarm-notification/hub``.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from lso.entity import EntityContext
from lso.mef.dates import now_iso
from lso.mef.notifications import NotificationApi, dispatch, hub_router, publish, wait_delivered
from lso.mef.store import Document, Store
from lso.security.tokens import InternalDep

ALARMS = Store("ecm.alarm", "alarm")
# The raised alarm of each source (id = source), so "is this source already alarmed?" is a key lookup.
_ACTIVE = Store("ecm.alarmSource", "alarm source")

ALARM_NOTIFICATIONS = NotificationApi("adagio", "alarmNotification", "v1")
ALARM_RAISED, ALARM_CLEARED = "alarmRaised", "alarmCleared"
RAISED, CLEARED = "raised", "cleared"
ICM_HUB = "icm"
DELIVERY_WAIT_S = 5.0


def raise_alarm(session: Session, source: str, probable_cause: str, severity: str = "major") -> list[str]:
    """Raise an alarm on ``source`` (``element:X``, ``port:X/uni-N``, ``link:A--Z``) unless one is raised.

    Returns the notification delivery ids to pass to ``notifications.dispatch`` after commit ([] when the
    source was already alarmed).
    """
    source = normalise(source)
    if _raised(session, source) is not None:
        return []
    alarm = ALARMS.add(
        session,
        {
            "id": str(uuid.uuid4()),
            "state": RAISED,
            "element": element_of(source),
            "source": source,
            "perceivedSeverity": severity.upper(),
            "probableCause": probable_cause,
            "raisedTime": now_iso(),
        },
        parent_id=element_of(source),
    )
    marker = {"id": source, "state": RAISED, "alarmId": alarm["id"]}
    _ACTIVE.put(session, marker) if _ACTIVE.find(session, source) else _ACTIVE.add(session, marker)
    return publish(session, ALARM_NOTIFICATIONS, None, ALARM_RAISED, alarm, f"{alarm['id']}:{RAISED}")


def clear_alarm(session: Session, source: str) -> list[str]:
    """Clear the raised alarm of ``source``; [] (and nothing changed) when it has none."""
    source = normalise(source)
    alarm = _raised(session, source)
    if alarm is None:
        return []
    alarm = ALARMS.put(session, {**alarm, "state": CLEARED, "clearedTime": now_iso()})
    _ACTIVE.put(session, {"id": source, "state": CLEARED, "alarmId": alarm["id"]})
    return publish(session, ALARM_NOTIFICATIONS, None, ALARM_CLEARED, alarm, f"{alarm['id']}:{CLEARED}")


def dispatch_and_wait(deliveries: list[str], timeout_s: float = DELIVERY_WAIT_S) -> None:
    """Dispatch, then wait (at most ``timeout_s``) until every delivery is done.

    For injected faults (tests, demos): the admin call answers once ICM has marked its topology, so the
    next request — e.g. a create right after a clear — sees the network as the fault left it. A driver
    watching a real network just dispatches.
    """
    dispatch(deliveries)
    wait_delivered(deliveries, timeout_s)


def raised_alarm(session: Session, source: str) -> Document | None:
    """The raised alarm of ``source``, if any."""
    return _raised(session, normalise(source))


def alarms(session: Session, element: str | None = None, state: str | None = None) -> list[Document]:
    """What ``GET /adagio/v1/alarms`` lists, oldest first."""
    found = ALARMS.children(session, element) if element else ALARMS.all(session)
    return [a for a in found if state in (None, a["state"])]


def normalise(source: str) -> str:
    """One name per source: a link is named from either end the same way (``sorted``, as ICM does)."""
    kind, _, target = source.partition(":")
    if kind == "link":
        return "link:" + "--".join(sorted(target.split("--", 1)))
    return source


def element_of(source: str) -> str:
    """The element an alarm is raised on; a link's alarm goes to the first end of its name."""
    target = source.partition(":")[2]
    return target.split("--", 1)[0] if source.startswith("link:") else target.split("/", 1)[0]


def install(ctx: EntityContext) -> None:
    """Keep this domain's ICM subscribed to ECM's alarms (runs on every start, before any fault)."""
    hub = {
        "id": ICM_HUB,
        "callback": ctx.settings.url_of("icm"),
        "query": f"eventType={ALARM_RAISED},{ALARM_CLEARED}",
    }
    with ctx.db.session() as session:
        current = ALARM_NOTIFICATIONS.hubs.find(session, ICM_HUB)
        if current is None:
            ALARM_NOTIFICATIONS.hubs.add(session, hub, party="lso-icm")
        elif current != hub:
            ALARM_NOTIFICATIONS.hubs.put(session, hub)


def alarm_hub_router() -> APIRouter:
    """``/adagio/v1/alarm-notification/hub``: further internal subscribers to element alarms."""
    router = APIRouter(prefix="/adagio/v1/alarm-notification", dependencies=[Depends(_internal_only)])
    router.include_router(hub_router(ALARM_NOTIFICATIONS, "ADAGIO"))
    return router


async def _internal_only(_caller: InternalDep) -> None:
    """ADAGIO is internal: customers may not subscribe to element alarms."""


def _raised(session: Session, source: str) -> Document | None:
    marker = _ACTIVE.find(session, source)
    if marker is None or marker["state"] != RAISED:
        return None
    return ALARMS.get(session, marker["alarmId"])
