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

Both run as retried steps of the customer's order fulfilment: a crash or an unreachable SOF or partner only
delays them. The customer's item says what was undone in its ``terminationError``.
"""

from __future__ import annotations

import logging
from typing import Any

from dbos import DBOS

from lso.bus import context
from lso.bus.partners.offnet import OVC_ITEM, UNI_ITEM, buyer_contact
from lso.bus.partners.onboarding import retryable, sonata
from lso.bus.partners.registry import PARTNERS
from lso.mef import runtime
from lso.mef.dates import now_iso
from lso.mef.store import Document

log = logging.getLogger(__name__)

PARTNER_DONE = "completed"
WITHDRAWN = "withdrawn"
"""Our name for a partner order that completed and was then deleted because our segment failed."""


def undo_lone_halves(
    order_id: str, service_order: dict[str, Any], shares: list[Document], links: dict[str, Document]
) -> dict[str, Document]:
    """Take down the part of each off-net EVC whose other part did not complete; returns the links as the
    customer's items should see them (a withdrawn partner share no longer counts as completed)."""
    settled = dict(links)
    for share in shares:
        if share.get("interlude"):  # ordered by SOF with our segment: SOF keeps the two together
            continue
        item_id = share["item_id"]
        link = links.get(item_id) or {"state": "failed"}
        ours = service_order.get("item", {}).get(item_id) or {}
        partner_done = link.get("state") == PARTNER_DONE
        if not partner_done and ours.get("state") == PARTNER_DONE and ours.get("serviceId"):
            release_on_net_segment(order_id, item_id, ours["serviceId"])
            reason = link.get("reason") or f"the partner order {link.get('id')} ended {link.get('state')}"
            settled[item_id] = {
                **link,
                "reason": f"{reason}; our segment (service {ours['serviceId']}) is released",
            }
        elif partner_done and ours.get("state") != PARTNER_DONE:
            withdrawal = withdraw_partner_share(order_id, item_id, link)
            settled[item_id] = {
                **link,
                "state": WITHDRAWN,
                "reason": f"our segment failed; the partner's share is withdrawn (its order {withdrawal})",
            }
    return settled


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


@DBOS.step(retries_allowed=True, max_attempts=8, interval_seconds=1.0, should_retry=retryable)
def withdraw_partner_share(order_id: str, item_id: str, link: Document) -> str:
    """Order the deletion of the partner's OVC and operator UNI (the OVC first: the seller deletes a UNI
    only with, or after, the OVCs on it); returns the partner's id of that delete order."""
    with runtime.current().db.read() as session:
        partner = PARTNERS.get(session, link["partnerId"])
    products = {i["id"]: i.get("productId") for i in link.get("partnerOrderItem", [])}
    external_id = withdrawal_key(order_id, item_id)
    client = sonata(partner)
    try:
        placed = client.order_by_external_id(external_id)
        if placed is None:
            body = delete_order_body(
                external_id, runtime.current().settings.name, [products.get(OVC_ITEM), products.get(UNI_ITEM)]
            )
            placed = client.create_order(body)
    finally:
        client.close()
    return str(placed["id"])


def delete_order_body(external_id: str, provider: str, product_ids: list[str | None]) -> Document:
    """A SONATA ``ProductOrder_Create`` of one ``delete`` item per partner product."""
    now = now_iso()
    items = [
        {"id": f"delete-{n}", "action": "delete", "requestedCompletionDate": now, "product": {"id": product}}
        for n, product in enumerate(p for p in product_ids if p)
    ]
    return {
        "externalId": external_id,
        "relatedContactInformation": [buyer_contact(provider)],
        "productOrderItem": items,
    }
