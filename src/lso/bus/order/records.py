"""Where BUS keeps product orders and products, their state machines, and the events they raise.

Every state change of an order or item goes through :func:`move_order` / :func:`move_item`, which write
the ``stateChange`` history and queue the notification in the same transaction, on the IRP (CANTATA or
SONATA) the order was placed on; event ids derive
from the order, item and state, so a step that runs again publishes nothing new.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from lso.bus.irp import SellerIrp, irp_of
from lso.mef import runtime
from lso.mef.dates import now_iso
from lso.mef.notifications import NotificationApi, publish
from lso.mef.statemachine import StateMachine
from lso.mef.store import Document, Store

ORDERS = Store("bus.productOrder", "productOrder")
PRODUCTS = Store("bus.product", "product")
REALIZATIONS = Store("bus.productRealization", "productRealization")
"""Which LEGATO service realises each product (``id`` = product id): BUS's own bookkeeping, never served."""
SERVICE_ORDER_LINKS = Store("bus.serviceOrderLink", "serviceOrderLink")
"""Which product order a LEGATO service order fulfils (``id`` = service order id), to route its events."""

# MEF 57.2 / Kylie MEFProductOrderStateType, as the state table of the Kylie document describes it.
ORDER_STATES = StateMachine(
    "productOrder",
    {
        "acknowledged": {"inProgress", "rejected"},
        "inProgress": {
            "completed",
            "failed",
            "partial",
            "held.assessingCharge",
            "pending.assessingModification",
            "assessingCancellation",
        },
        "held.assessingCharge": {"inProgress"},
        "pending.assessingModification": {"inProgress"},
        "assessingCancellation": {"inProgress", "pendingCancellation"},
        "pendingCancellation": {"cancelled"},
    },
)

ITEM_STATES = StateMachine(
    "productOrderItem",
    {
        "acknowledged": {"inProgress", "rejected", "rejected.validated", "rejected.unassessed"},
        "inProgress": {"completed", "failed", "held", "pending"},
        "held": {"inProgress", "failed"},
        "pending": {"inProgress", "cancelled"},
    },
)


def order_href(order_id: str, irp: SellerIrp) -> str:
    path = irp.path("productOrderingManagement")
    return f"{runtime.current().settings.base_url}{path}/productOrder/{order_id}"


def product_href(product_id: str, irp: SellerIrp) -> str:
    return f"{runtime.current().settings.base_url}{irp.path('productInventory')}/product/{product_id}"


def order_notifications(order: Document) -> NotificationApi:
    """The notification API of the IRP ``order`` was placed on."""
    return irp_of(order["href"]).notifications("productOrderingNotification")


def item_of(order: Document, item_id: str) -> Document:
    return next(item for item in order["productOrderItem"] if item["id"] == item_id)


def move_order(session: Session, order: Document, state: str, reason: str | None = None) -> list[str]:
    """Move ``order`` to ``state`` (keeping its dates right); the deliveries of its event."""
    if not ORDER_STATES.move(order, state, reason=reason):
        return []
    if state == "completed":
        order["completionDate"] = now_iso()
    return _tell_buyer(session, order, "productOrderStateChangeEvent", f"state:{state}", state=state)


def move_item(
    session: Session, order: Document, item: Document, state: str, reason: str | None = None
) -> list[str]:
    """Move one item; ``expectedCompletionDate`` lives only while the item is inProgress."""
    if not ITEM_STATES.move(item, state, reason=reason):
        return []
    if state != "inProgress":
        item.pop("expectedCompletionDate", None)
    if state in {"completed", "failed"}:
        item["completionDate"] = now_iso()
    key = f"item:{item['id']}:state:{state}"
    return _tell_buyer(
        session, order, "productOrderItemStateChangeEvent", key, orderItemId=item["id"], state=state
    )


def set_expected_completion(session: Session, order: Document, item: Document, date: str) -> list[str]:
    """Record when the seller expects to complete ``item`` and tell the buyer (once per date)."""
    if item.get("expectedCompletionDate") == date:
        return []
    item["expectedCompletionDate"] = date
    event_type, key = "productOrderItemExpectedCompletionDateSetEvent", f"item:{item['id']}:expected:{date}"
    return _tell_buyer(session, order, event_type, key, orderItemId=item["id"])


def _tell_buyer(session: Session, order: Document, event_type: str, key: str, **fields: str) -> list[str]:
    """Queue an ``event_type`` event about ``order`` (its id, href and ``fields``) for its buyer; the
    event id is the order's id and ``key``, so publishing the same change twice delivers it once."""
    event = {"id": order["id"], "href": order["href"], **fields}
    party = ORDERS.party_of(session, order["id"])
    return publish(
        session, order_notifications(order), party, event_type, event, event_id=f"{order['id']}:{key}"
    )
