"""The seller side of the INTERLUDE option (MEF 55.0.1 §10.2 step 9b-a): how this domain's BUS learns of
the orders a buyer provider's SOF placed with our SOF directly.

SOF tells BUS of every INTERLUDE order's state changes over LEGATO (serviceOrderingNotification, to BUS's
hub). BUS's LEGATO listener hands an event about an order it has no link to to :func:`on_service_order`,
which reads the order back over LEGATO — the event only says which, so a forged or late one changes
nothing — and keeps a sale record (``bus.interludeSale``, keyed by the service order id) with the order's
state and items: what BUS bills the buyer for.
"""

from __future__ import annotations

from dbos import DBOS, SetWorkflowID

from lso.bus import context
from lso.entity import EntityContext
from lso.mef import runtime
from lso.mef.store import Document, Store

SALES = Store("bus.interludeSale", "interludeSale")
INTERLUDE_ORDERING = "/mefApi/interlude/serviceOrderingManagement/"


def recover(_ctx: EntityContext) -> None:
    """Subscribe BUS to SOF's service order events when the domain starts, not only when BUS first
    orders: a partner domain may sell over INTERLUDE before it ever places a LEGATO order itself."""
    with SetWorkflowID("bus-subscribe-service-ordering"):
        DBOS.start_workflow(subscribe)


@DBOS.workflow(name="bus.subscribe_service_ordering")
def subscribe() -> None:
    from lso.bus.order.fulfilment import register_legato_hub  # the one registration of that hub

    register_legato_hub()


def on_service_order(service_order_id: str) -> Document:
    """An event about a service order BUS has no link to: the order, read back over LEGATO, recorded as a
    sale if a partner placed it over INTERLUDE."""
    order = read_unlinked_order(service_order_id)
    if INTERLUDE_ORDERING in str(order.get("href", "")):
        record_sale(order)
    return order


@DBOS.step(retries_allowed=True, max_attempts=5, interval_seconds=0.5, backoff_rate=2.0)
def read_unlinked_order(service_order_id: str) -> Document:
    return context.legato().get_service_order(service_order_id)


def record_sale(order: Document) -> Document:
    sale: Document = {
        "id": order["id"],
        "href": order["href"],
        "externalId": order.get("externalId"),
        "state": order["state"],
        "orderDate": order.get("orderDate"),
        "completionDate": order.get("completionDate"),
        "serviceOrderItem": [
            {"id": item["id"], "action": item.get("action"), "state": item.get("state")}
            for item in order.get("serviceOrderItem", [])
        ],
    }
    with runtime.current().db.session() as session:
        known = SALES.find(session, sale["id"])
        if known is None:
            SALES.add(session, sale)
        elif known != sale:
            SALES.put(session, sale)
    return sale
