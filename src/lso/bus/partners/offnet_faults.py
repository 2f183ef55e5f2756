"""Faults between providers (MEF 55.0.1 §10.2 step 6, issue #3 item 6): an off-net EPL is both parts or
nothing.

When one part of an off-net EPL ends and the other does not, the part that was built is taken down again,
so neither provider keeps (nor bills for) half a service:

- the partner rejected or failed its order while SOF built our segment → a LEGATO service order deletes
  our EVC service (``externalId`` ``offnetRelease:<order>:<item>``: SOF answers a repeated create with the
  order it already has, so a re-run step releases once);
- SOF failed our segment while the partner completed its order → a SONATA product order deletes the
  partner's OVC and operator UNI (``externalId`` ``partnerWithdraw:<order>:<item>``, looked up before
  ordering, so a re-run step orders once). The lso seller offers no ``cancelProductOrder`` (the Kylie
  document makes it optional) and our wait ends only when the partner order has ended, so a delete order
  is the one way back that every seller offers.

A modify of an off-net EPL changes both parts at once; when one part fails, the other is set back to the
bandwidth of the product (``offnetRestore:…`` over LEGATO, ``partnerRestore:…`` over SONATA). A deleted
part cannot be given back as it was, so a failed half of a delete is only reported.

All run as retried steps of the customer's order fulfilment: a crash or an unreachable SOF or partner only
delays them. The customer's item says what was undone in its ``terminationError``.
"""

from __future__ import annotations

import logging
from typing import Any

from dbos import DBOS

from lso.bus import context
from lso.bus.order import mapping
from lso.bus.order.records import ORDERS, PRODUCTS, item_of
from lso.bus.partners.onboarding import retryable
from lso.bus.partners.ordering import PartnerShare, order_once
from lso.bus.partners.registry import PARTNERS
from lso.bus.products import EvcConfiguration, validate_configuration
from lso.mef import runtime
from lso.mef.dates import now_iso
from lso.mef.store import Document

log = logging.getLogger(__name__)

PARTNER_DONE = "completed"
WITHDRAWN = "withdrawn"
"""Our name for a partner order that completed and was then undone (its products deleted, or set back
for a modify) because our segment failed."""


def undo_lone_halves(
    order_id: str, service_order: dict[str, Any], shares: list[Document], links: dict[str, Document]
) -> dict[str, Document]:
    """Take down (or, for a modify, set back) the part of each off-net EVC whose other part did not
    complete; returns the links as the customer's items should see them (a withdrawn or restored partner
    share no longer counts as completed)."""
    settled = dict(links)
    for share in shares:
        if share.get("interlude"):  # ordered by SOF with our segment: SOF keeps the two together
            continue
        item_id = share["item_id"]
        link = links.get(item_id) or {"state": "failed"}
        ours = service_order.get("item", {}).get(item_id) or {}
        partner_done = link.get("state") == PARTNER_DONE
        action = share.get("action", "add")
        if not partner_done and ours.get("state") == PARTNER_DONE and ours.get("serviceId"):
            reason = link.get("reason") or f"the partner order {link.get('id')} ended {link.get('state')}"
            settled[item_id] = {**link, "reason": f"{reason}; {_undo_ours(order_id, item_id, action, ours)}"}
        elif partner_done and ours.get("state") != PARTNER_DONE:
            settled[item_id] = {**link, "state": WITHDRAWN, "reason": _undo_theirs(order_id, share, link)}
    return settled


def _undo_ours(order_id: str, item_id: str, action: str, ours: Document) -> str:
    """Our segment is done but the partner's is not: release it (add), set it back (modify)."""
    service = ours["serviceId"]
    if action == "add":
        release_on_net_segment(order_id, item_id, service)
        return f"our segment (service {service}) is released"
    if action == "modify":
        restore_on_net_segment(order_id, item_id, service)
        return f"our segment (service {service}) is set back to its bandwidth"
    # A deleted segment cannot be given back as it was (its S-VLAN and ports are free for others).
    return f"our segment (service {service}) is deleted: the partner's share remains with the partner"


def _undo_theirs(order_id: str, share: Document, link: Document) -> str:
    """The partner's share is done but ours is not: withdraw it (add), set it back (modify)."""
    if share.get("action", "add") == "add":
        withdrawal = withdraw_partner_share(order_id, share["item_id"], link)
        return f"our segment failed; the partner's share is withdrawn (its order {withdrawal})"
    if share["action"] == "modify":
        restored = restore_partner_share(order_id, share)
        return f"our segment failed; the partner's share is set back (its order {restored})"
    return "our segment failed to be deleted; the partner's share is deleted"


@DBOS.step(retries_allowed=True, max_attempts=8, interval_seconds=0.5, backoff_rate=2.0)
def release_on_net_segment(order_id: str, item_id: str, service_id: str) -> str:
    """Delete our EVC service of an off-net EPL whose partner part failed; returns the LEGATO order id."""
    now = now_iso()
    body = {
        "externalId": release_key(order_id, item_id),
        "description": f"Release of our segment of product order {order_id} item {item_id}: partner failed",
        "requestedStartDate": now,
        "requestedCompletionDate": now,
        "serviceOrderItem": [{"id": item_id, "action": "delete", "service": {"id": service_id}}],
    }
    placed = context.legato().create_service_order(body)
    log.info("order %s item %s: our segment %s released by %s", order_id, item_id, service_id, placed["id"])
    return str(placed["id"])


def release_key(order_id: str, item_id: str) -> str:
    return f"offnetRelease:{order_id}:{item_id}"


def withdrawal_key(order_id: str, item_id: str) -> str:
    return f"partnerWithdraw:{order_id}:{item_id}"


@DBOS.step(retries_allowed=True, max_attempts=8, interval_seconds=0.5, backoff_rate=2.0)
def restore_on_net_segment(order_id: str, item_id: str, service_id: str) -> str:
    """Set our EVC service of an off-net EPL back to the bandwidth of its product (not yet changed: the
    order has not ended) when the partner refused or failed the modify; returns the LEGATO order id."""
    with runtime.current().db.read() as session:
        product = PRODUCTS.get(session, item_of(ORDERS.get(session, order_id), item_id)["product"]["id"])
    now = now_iso()
    before = {
        "id": order_id,
        "orderDate": now,
        "productOrderItem": [
            {
                "id": item_id,
                "requestedCompletionDate": now,
                "product": {"productConfiguration": product["productConfiguration"]},
            }
        ],
    }
    plan = {"item": [{"id": item_id, "action": "modify", "productId": product["id"], "uni": []}]}
    body = mapping.service_order(before, plan, {product["id"]: service_id}) | {
        "externalId": restore_key(order_id, item_id),
        "description": f"Our segment of product order {order_id} item {item_id} set back: partner failed",
    }
    placed = context.legato().create_service_order(body)
    log.info("order %s item %s: our segment %s set back by %s", order_id, item_id, service_id, placed["id"])
    return str(placed["id"])


def restore_key(order_id: str, item_id: str) -> str:
    return f"offnetRestore:{order_id}:{item_id}"


@DBOS.step(retries_allowed=True, max_attempts=8, interval_seconds=1.0, should_retry=retryable)
def withdraw_partner_share(order_id: str, item_id: str, link: Document) -> str:
    """Order the deletion of the partner's OVC and operator UNI; returns the partner's order id."""
    products = {i["id"]: i["productId"] for i in link.get("partnerOrderItem", []) if i.get("productId")}
    withdrawal = PartnerShare("", 0.0, 0.0, now_iso(), "delete", products)
    return _order_once(link["partnerId"], withdrawal_key(order_id, item_id), withdrawal)


@DBOS.step(retries_allowed=True, max_attempts=8, interval_seconds=1.0, should_retry=retryable)
def restore_partner_share(order_id: str, share: Document) -> str:
    """Order the partner's OVC back to the bandwidth of our product (not yet changed: the order has not
    ended) when our segment's modify failed; returns the partner's order id."""
    with runtime.current().db.read() as session:
        order = ORDERS.get(session, order_id)
        product = PRODUCTS.get(session, item_of(order, share["item_id"])["product"]["id"])
    before = validate_configuration(product["productConfiguration"], "")
    assert isinstance(before, EvcConfiguration)
    cir_mbps, eir_mbps = before.ingress_cir_mbps(), before.ingress_eir_mbps()
    restore = PartnerShare("", cir_mbps, eir_mbps, now_iso(), "modify", share["product_ids"])
    return _order_once(share["partner_id"], partner_restore_key(order_id, share["item_id"]), restore)


def partner_restore_key(order_id: str, item_id: str) -> str:
    return f"partnerRestore:{order_id}:{item_id}"


def _order_once(partner_id: str, external_id: str, share: PartnerShare) -> str:
    with runtime.current().db.read() as session:
        partner = PARTNERS.get(session, partner_id)
    return str(order_once(partner, external_id, share)["id"])
