"""SOF's LEGATO resources: where they are stored, their state machines, and the events their changes raise.

The API modules and the activation workflow change states only through these functions, so every
state change sets the dates the Kylie spec asks for and queues the notification BUS listens for, in the
same transaction as the change.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from lso.mef import runtime
from lso.mef.dates import later, now_iso
from lso.mef.notifications import NotificationApi, publish
from lso.mef.statemachine import StateMachine
from lso.mef.store import Document, Store

ORDERING_BASE = "/mefApi/legato/serviceOrderingManagement/v6"
INVENTORY_BASE = "/mefApi/legato/serviceInventory/v7"
TESTING_BASE = "/mefApi/legato/serviceFunctionTesting/v3"
FEASIBILITY_BASE = "/mefApi/legato/serviceFeasibility/v1"
INTERLUDE_ORDERING_BASE = "/mefApi/interlude/serviceOrderingManagement/v1"
INTERLUDE_TESTING_BASE = "/mefApi/interlude/serviceFunctionTesting/v3"

ORDERS = Store("sof.serviceOrder", "serviceOrder")
SERVICES = Store("sof.service", "service")
TEST_JOBS = Store("sof.testJob", "testJob")
TEST_RESULTS = Store("sof.testResult", "testResult")
FEASIBILITY_CHECKS = Store("sof.feasibilityCheck", "feasibilityCheck")

ORDERING_EVENTS = NotificationApi("legato", "serviceOrderingNotification", "v6")
INVENTORY_EVENTS = NotificationApi("legato", "serviceInventoryNotification", "v7")
INTERLUDE_ORDERING_EVENTS = NotificationApi("interlude", "serviceOrderingNotification", "v1")
BUS_PARTY = "lso-bus"
"""This domain's BUS: told of every order a partner places over INTERLUDE (§10.2 step 9b-a)."""

# Kylie LEGATO resources keep no stateChange history, hence history=None below.
ORDER_STATES = StateMachine(
    "serviceOrder",
    {
        "acknowledged": ["inProgress", "rejected"],
        "inProgress": ["completed", "failed", "partial"],
    },
)
ITEM_STATES = StateMachine(
    "serviceOrderItem",
    {
        "acknowledged": ["inProgress", "rejected"],
        "inProgress": ["completed", "failed"],
    },
)
SERVICE_STATES = StateMachine(
    "service",
    {
        "feasibilityChecked": ["reserved", "terminated"],
        "reserved": ["active", "terminated"],
        "active": ["inactive", "terminated"],
        "inactive": ["active", "terminated"],
    },
)
TEST_JOB_STATES = StateMachine(
    "testJob",
    {"acknowledged": ["inProgress", "rejected"], "inProgress": ["completed", "cancelled"]},
)


def href(path: str) -> str:
    return f"{runtime.current().settings.base_url}{path}"


def service_href(service_id: str) -> str:
    return href(f"{INVENTORY_BASE}/service/{service_id}")


def party_of(session: Session, order: Document) -> str | None:
    return ORDERS.party_of(session, order["id"])


def over_interlude(order: Document) -> bool:
    """Whether a partner provider placed ``order`` over INTERLUDE (an order keeps the mount in its href)."""
    return INTERLUDE_ORDERING_BASE in str(order.get("href", ""))


def publish_order_event(
    session: Session, order: Document, event_type: str, event: Document, event_id: str
) -> list[str]:
    """Queue an order event on the IRP the order came over; an INTERLUDE order's events also go to this
    domain's BUS over LEGATO, which is how the partner's BUS learns of orders its SOF took directly."""
    if not over_interlude(order):
        return publish(session, ORDERING_EVENTS, party_of(session, order), event_type, event, event_id)
    ids = publish(session, INTERLUDE_ORDERING_EVENTS, party_of(session, order), event_type, event, event_id)
    return ids + publish(session, ORDERING_EVENTS, BUS_PARTY, event_type, event, event_id)


def move_order(session: Session, order: Document, state: str) -> list[str]:
    """Move the order (dates per Kylie) and queue ``serviceOrderStateChangeEvent``; [] if already there.
    The caller stores ``order``, once with its items' moves."""
    if not ORDER_STATES.move(order, state, history=None):
        return []
    if state == "inProgress":
        order["startDate"] = now_iso()
        order["expectedCompletionDate"] = order.get("requestedCompletionDate") or later(days=10)
    if state in {"completed", "failed", "partial"}:  # docs/legato.md: set once the order has ended
        order["completionDate"] = now_iso()
    event = {"id": order["id"], "href": order["href"], "state": state}
    return publish_order_event(
        session, order, "serviceOrderStateChangeEvent", event, f"{order['id']}:state:{state}"
    )


def move_item(
    session: Session,
    order: Document,
    item_id: str,
    state: str,
    termination_error: dict[str, str] | None = None,
) -> list[str]:
    """Move one item and queue ``serviceOrderItemStateChangeEvent``; the caller stores ``order``."""
    item = next(i for i in order["serviceOrderItem"] if i["id"] == item_id)
    if termination_error:
        item.setdefault("terminationError", []).append(termination_error)
    if not ITEM_STATES.move(item, state, history=None):
        return []
    event = {"id": order["id"], "href": order["href"], "orderItemId": item_id, "state": state}
    return publish_order_event(
        session, order, "serviceOrderItemStateChangeEvent", event, f"{order['id']}:{item_id}:state:{state}"
    )


def add_service(session: Session, party: str | None, service: Document) -> list[str]:
    """Record a new service in inventory (its id is derived from its order item by the caller)."""
    if SERVICES.find(session, service["id"]) is not None:
        return []
    service["href"] = service_href(service["id"])
    SERVICES.add(session, service, party=party)
    return _publish_service_event(session, service, "serviceCreateEvent", f"{service['id']}:create")


def move_service(session: Session, service: Document, *states: str) -> list[str]:
    """Move the service through ``states`` in turn (one ``serviceStateChangeEvent`` each) and store it
    once; a state it is already in is skipped."""
    ids: list[str] = []
    moved = False
    for state in states:
        if not SERVICE_STATES.move(service, state, history=None):
            continue
        moved = True
        if state == "active":
            service["startDate"] = now_iso()
        if state == "terminated":
            service["endDate"] = now_iso()
        ids += _publish_service_event(
            session, service, "serviceStateChangeEvent", f"{service['id']}:state:{state}", state=state
        )
    if moved:
        SERVICES.put(session, service)
    return ids


def _publish_service_event(
    session: Session, service: Document, event_type: str, event_id: str, **detail: str
) -> list[str]:
    """The service inventory publishes service events on every IRP that serves it. It reads this module,
    so it is imported when first used rather than at import time."""
    from lso.sof.legato.service_inventory import publish_service_event

    return publish_service_event(session, service, event_type, event_id, **detail)


def characteristic(service: Document, name: str, value: Any) -> None:
    """Record one design fact (SIP, VNI, path…) on the service, replacing an earlier value."""
    facts = [c for c in service.get("serviceCharacteristic", []) if c["name"] != name]
    facts.append({"name": name, "value": value})
    service["serviceCharacteristic"] = facts
