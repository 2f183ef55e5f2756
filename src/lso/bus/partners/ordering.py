"""Ordering the partner's share of an EPL over SONATA and waiting for it (MEF 55.0.1 §10.2 step 6).

``partnerOrder:<our order id>:<our item id>`` is a durable workflow that places the partner's product order
(its ``externalId`` is that key, so a step re-run after a crash finds the order it placed rather than
placing a second one), records the partner's order and item ids on a link kept under the partner's order
id, then waits durably: a notification that the partner order reached a final state, delivered to our
listener and deduplicated by eventId, only wakes it (``DBOS.send``); after every wake-up or timeout it
reads the partner order back, so a repeated, late or forged event cannot move it, and a lost one only
delays it until the next read. Events of other states (and item events, from hubs registered before
on-boarding asked for order events only) wake nothing: the workflow acts on final states alone.
The customer's order fulfilment starts this workflow as a child and completes only when it does.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from dbos import DBOS, SetWorkflowID, WorkflowHandle
from fastapi import APIRouter

from lso.bus.partners.offnet import (
    OVC_ITEM,
    PartnerSite,
    access_items,
    delete_items,
    order_body,
    ovc_configuration,
)
from lso.bus.partners.onboarding import retryable, sonata
from lso.bus.partners.registry import PARTNERS
from lso.mef import runtime
from lso.mef.notifications import NotificationApi, listener_router
from lso.mef.store import Document, Store

log = logging.getLogger(__name__)

PARTNER_ORDERS = Store("bus.partnerOrder", "partnerOrder")
"""Our record of each partner order, keyed by the partner's order id: which of our items it serves."""

ORDER_NOTIFICATIONS = NotificationApi("sonata", "productOrderingNotification", "v11")
ORDER_EVENTS = ("productOrderStateChangeEvent", "productOrderItemStateChangeEvent")
WAKE_TOPIC = "partnerOrder"
WAIT_S = 5.0
MAX_WAITS = 1440  # two hours of silence from the partner fail our item rather than leave it waiting
FINAL_STATES = {"completed", "failed", "partial", "rejected", "cancelled"}


@dataclass(frozen=True)
class PartnerShare:
    """What our item asks of the partner: an OVC and operator UNI at its site (add: on the S-VLAN
    ``s_vlan_id`` at the ENNI when agreed), new rates for its OVC (modify), or the end of its products
    (delete)."""

    site_id: str
    cir_mbps: float
    eir_mbps: float
    due: str
    action: str
    product_ids: dict[str, str]
    s_vlan_id: int | None = None

    def items(self, partner: Document) -> list[Document]:
        if self.action == "delete":
            return delete_items(self.product_ids)
        if self.action == "modify":
            configuration = ovc_configuration(self.cir_mbps, self.eir_mbps)
            product = {"id": self.product_ids[OVC_ITEM], "productConfiguration": configuration}
            return [{"id": OVC_ITEM, "action": "modify", "product": product}]
        where = PartnerSite(partner, {"id": self.site_id})
        return access_items(
            where, self.cir_mbps, self.eir_mbps, "productOrderItemRelationship", "1000BASE_LX", self.s_vlan_id
        )


def order_once(partner: Document, external_id: str, share: PartnerShare) -> Document:
    """The partner order of ``share`` keyed by ``external_id``: the one a crashed run of the step placed
    already, or a new one — so a retried step never orders twice."""
    client = sonata(partner)
    try:
        placed = client.order_by_external_id(external_id)
        if placed is None:
            provider = runtime.current().settings.name
            placed = client.create_order(
                order_body(share.items(partner), external_id, provider, None, share.due)
            )
        return placed
    finally:
        client.close()


def workflow_id(order_id: str, item_id: str) -> str:
    return f"partnerOrder:{order_id}:{item_id}"


def start_partner_order(
    order_id: str,
    item_id: str,
    partner_id: str,
    site_id: str,
    cir_mbps: float,
    eir_mbps: float,
    due: str,
    action: str = "add",
    product_ids: dict[str, str] | None = None,
    s_vlan_id: int | None = None,
) -> WorkflowHandle[Document]:
    """Start (at most once per item) the partner order of our item; a child workflow when called from
    the customer's order fulfilment. ``action`` ``modify`` or ``delete`` changes the partner's products
    ``product_ids`` (partner order item → product, see ``offnet_order.share_requests``); an ``add``
    states the S-VLAN agreed at the ENNI (``s_vlan_id``)."""
    share = PartnerShare(site_id, cir_mbps, eir_mbps, due, action, product_ids or {}, s_vlan_id)
    with SetWorkflowID(workflow_id(order_id, item_id)):
        return DBOS.start_workflow(order_partner_share, order_id, item_id, partner_id, share)


@DBOS.workflow()
def order_partner_share(order_id: str, item_id: str, partner_id: str, share: PartnerShare) -> Document:
    """Place the partner order and wait for it to end; returns our link with the partner's final state."""
    try:
        order = place_partner_order(order_id, item_id, partner_id, share)
    except Exception as exc:  # refused, or the partner unreachable after every retry
        log.warning("order %s item %s: partner order not placed: %s", order_id, item_id, exc)
        return {"state": "failed", "reason": f"the partner order could not be placed: {exc}"}
    waits = 0
    while order["state"] not in FINAL_STATES and waits < MAX_WAITS:
        DBOS.recv(WAKE_TOPIC, timeout_seconds=WAIT_S)
        order = read_partner_order(partner_id, order["id"])
        waits += 1
    return order


@DBOS.step(retries_allowed=True, max_attempts=8, interval_seconds=1.0, should_retry=retryable)
def place_partner_order(order_id: str, item_id: str, partner_id: str, share: PartnerShare) -> Document:
    db = runtime.current().db
    with db.read() as session:
        partner = PARTNERS.get(session, partner_id)
    placed = order_once(partner, workflow_id(order_id, item_id), share)
    link = _link(placed, partner_id, order_id, item_id)
    with db.session() as session:
        if PARTNER_ORDERS.find(session, link["id"]) is None:
            PARTNER_ORDERS.add(session, link)
    return link


def _link(
    order: Document, partner_id: str, order_id: str, item_id: str, products: dict[str, str] | None = None
) -> Document:
    """Our record of a partner order: its ids, its state as last read, the item of ours it serves and,
    once it completed, the partner's product of each of its items (``products``: item id → product id)."""
    items = {i.get("id"): i for i in order.get("productOrderItem") or []}
    products = products or {}
    return {
        "id": order["id"],
        "state": order.get("state"),
        "partnerId": partner_id,
        "productOrderId": order_id,
        "productOrderItemId": item_id,
        "partnerOrderItem": [
            {"id": i, "state": item.get("state"), "productId": products.get(str(i))}
            for i, item in items.items()
        ],
        "partnerProductId": products.get(OVC_ITEM),
        "reason": _reason(order),
    }


def _reason(order: Document) -> str | None:
    errors = [
        e.get("reason") or e.get("value") for e in order.get("terminationError") or [] if isinstance(e, dict)
    ]
    for item in order.get("productOrderItem") or []:
        errors += [e.get("reason") or e.get("value") for e in item.get("terminationError") or []]
    return "; ".join(str(e) for e in errors if e) or None


@DBOS.step(retries_allowed=True, max_attempts=8, interval_seconds=1.0, should_retry=retryable)
def read_partner_order(partner_id: str, partner_order_id: str) -> Document:
    db = runtime.current().db
    with db.read() as session:
        partner = PARTNERS.get(session, partner_id)
        link = PARTNER_ORDERS.get(session, partner_order_id)
    client = sonata(partner)
    try:
        order = client.get_order(partner_order_id)
        completed = order.get("state") in {"completed", "partial"}
        products = client.products_of_order(partner_order_id) if completed else {}
    finally:
        client.close()
    read = _link(order, partner_id, link["productOrderId"], link["productOrderItemId"], products)
    if read != link:
        with db.session() as session:
            PARTNER_ORDERS.put(session, read)
    return read


def order_listener() -> APIRouter:
    return listener_router(ORDER_NOTIFICATIONS, dict.fromkeys(ORDER_EVENTS, on_partner_order_event))


def on_partner_order_event(body: Document) -> None:
    """Wake the workflow waiting for this partner order when the order says it reached a final state; an
    order we do not know is ignored."""
    event = body.get("event")
    if not isinstance(event, dict) or "orderItemId" in event or event.get("state") not in FINAL_STATES:
        return
    partner_order_id = event.get("id")
    if not isinstance(partner_order_id, str):
        return
    with runtime.current().db.read() as session:
        link = PARTNER_ORDERS.find(session, partner_order_id)
    if link is not None:
        DBOS.send(
            workflow_id(link["productOrderId"], link["productOrderItemId"]),
            str(body.get("eventType")),
            topic=WAKE_TOPIC,
        )
