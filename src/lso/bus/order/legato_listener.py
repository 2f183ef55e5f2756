"""BUS's listener of SOF's LEGATO service order events (MEF 55.0.1 §10.2 step 13).

An event only wakes the fulfilment workflow of the product order its service order fulfils; the workflow
then reads the service order over LEGATO (unless the event names a state it does not wait for). So the
listener needs no authentication of its own: a forged event costs one extra read or delays the read to
the workflow's next timeout, never a wrong state.
"""

from __future__ import annotations

from fastapi import APIRouter

from lso.bus.order.fulfilment import wake
from lso.bus.order.records import ORDERS, SERVICE_ORDER_LINKS
from lso.bus.partners import interlude_sales
from lso.mef import runtime
from lso.mef.notifications import NotificationApi, listener_router
from lso.mef.store import Document

SERVICE_ORDER_NOTIFICATIONS = NotificationApi("legato", "serviceOrderingNotification", "v6")
EVENT_TYPES = ("serviceOrderStateChangeEvent", "serviceOrderItemStateChangeEvent", "serviceOrderCreateEvent")


def router() -> APIRouter:
    return listener_router(
        SERVICE_ORDER_NOTIFICATIONS, dict.fromkeys(EVENT_TYPES, on_service_order_event), internal=True
    )


def on_service_order_event(body: Document) -> None:
    event = body.get("event")
    if not isinstance(event, dict) or not isinstance(event.get("id"), str):
        return
    service_order_id = event["id"]
    with runtime.current().db.read() as session:
        link = SERVICE_ORDER_LINKS.find(session, service_order_id)
    product_order_id = link["productOrderId"] if link else _placed_by_bus(service_order_id)
    if product_order_id is not None:
        order_state = event.get("state") if body.get("eventType") == "serviceOrderStateChangeEvent" else None
        wake(product_order_id, str(order_state or body.get("eventType")))


def _placed_by_bus(service_order_id: str) -> str | None:
    """The product order a service order without a link fulfils, if BUS placed it: SOF's event can
    overtake the answer to BUS's POST, after which the link is stored, and the order's ``externalId``
    names the product order. Otherwise it is perhaps an order a partner provider placed with our SOF
    over INTERLUDE (recorded as a sale)."""
    order = interlude_sales.on_service_order(service_order_id)
    external_id = order.get("externalId")
    if interlude_sales.INTERLUDE_ORDERING in str(order.get("href", "")) or not isinstance(external_id, str):
        return None
    with runtime.current().db.read() as session:
        return external_id if ORDERS.find(session, external_id) is not None else None
