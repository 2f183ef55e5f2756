"""A customer's EPL with one UNI off-net, as a product order (MEF 55.0.1 §10.2 step 6, the buyer side).

When the order is checked, a subscriber UNI at a place that is not ours but where a partner has a site is
planned as the partner's (``partner`` on its plan step, no site of ours) and the EVC on it is planned from
the on-net UNI to our side of that partner's ENNI. The LEGATO service order carries only the on-net part
(:func:`on_net`); the fulfilment orders the partner's share as a child workflow per EVC
(:mod:`lso.bus.partners.ordering`) and, once SOF is done, folds the partner's outcome into the items
(:func:`with_partner_outcomes`), so the customer's order completes only when both parts are done.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from lso.bus.order.inventory import product_id
from lso.bus.order.records import PRODUCTS
from lso.bus.partners.offnet import OVC_ITEM, UNI_ITEM, locate_among
from lso.bus.partners.registry import PARTNERS
from lso.bus.products import EvcConfiguration, validate_configuration
from lso.footprint import named_footprint
from lso.mef import runtime
from lso.mef.dates import now_iso
from lso.mef.store import Document

PARTNER_DONE = "completed"
RELIES_ON = "RELIES_ON"
"""Our EPL (or the partner's UNI as our customer sees it) relies on the partner's product: not a relation
the EPL's product specification defines, so a name of our own that says what it is."""
INVENTORY = "/mefApi/sonata/productInventory/v8"


def partner_for_place(partners: list[Document], place: dict[str, Any]) -> Document | None:
    """``{partnerId, siteId, enni}`` when one of ``partners`` has a site at ``place`` (not one of ours).
    It may ask the partners over the network: never call it inside a database transaction."""
    where = locate_among(partners, place)
    if where is None:
        return None
    return {
        "partnerId": where.partner["id"],
        "siteId": str(where.site["id"]),
        "enni": our_enni_id(where.enni),
    }


def our_enni_id(enni: Document) -> str | None:
    """Our network's name for our side of a partner's ENNI (the element and port it was registered with)."""
    footprint = named_footprint(runtime.current().settings.footprint)
    return next(
        (e.id for e in footprint.ennis if e.element == enni["element"] and e.port == enni["port"]), None
    )


def on_net(plan: Document) -> Document:
    """The plan SOF fulfils: without the partner's UNIs, its EVCs ending at our side of the ENNI."""
    theirs = {step["id"] for step in plan["item"] if step.get("partner") and not step["uni"]}
    steps = []
    for step in plan["item"]:
        if step["id"] in theirs:
            continue
        if step.get("partner"):
            step = {**step, "uni": [u for u in step["uni"] if u.get("itemId") not in theirs]}
        steps.append(step)
    return {**plan, "item": steps}


def share_requests(order: Document, plan: Document) -> list[Document]:
    """The partner order each off-net EVC needs: its partner and site, its rates and its due date."""
    items = {item["id"]: item for item in order["productOrderItem"]}
    requests = []
    for step in plan["item"]:
        if not (step.get("partner") and step["uni"]):
            continue
        configuration = validate_configuration(items[step["id"]]["product"]["productConfiguration"], "")
        assert isinstance(configuration, EvcConfiguration)
        requests.append(
            {
                "item_id": step["id"],
                "partner_id": step["partner"]["partnerId"],
                "site_id": step["partner"]["siteId"],
                "cir_mbps": configuration.ingress_cir_mbps(),
                "eir_mbps": configuration.ingress_eir_mbps(),
                "due": items[step["id"]]["requestedCompletionDate"],
                "uni_item_id": step["partner"]["uniItemId"],
            }
        )
    return requests


def with_partner_outcomes(
    service_order: Document, shares: list[Document], links: dict[str, Document]
) -> Document:
    """``service_order`` as if SOF had fulfilled the partner's part too: each partner UNI item follows the
    partner order of its EVC, and an EVC whose partner order did not complete fails with the partner's
    reason (``links``: EVC item id → the partner order's final link)."""
    items = {**service_order.get("item", {})}
    for share in shares:
        link = links.get(share["item_id"]) or {
            "state": "failed",
            "reason": "the partner order was not placed",
        }
        ok = link.get("state") == PARTNER_DONE
        reason = link.get("reason") or f"the partner order {link.get('id')} ended {link.get('state')}"
        error = [] if ok else [{"code": "otherIssue", "value": f"partner {share['partner_id']}: {reason}"}]
        uni = {"state": PARTNER_DONE if ok else "failed", "action": "add", "serviceId": None}
        items[share["uni_item_id"]] = {
            **uni,
            "terminationError": error,
            "partner": _partner_ref(link, UNI_ITEM),
        }
        ours = items.get(share["item_id"]) or {"state": "failed", "action": "add", "serviceId": None}
        if not ok and ours.get("state") == PARTNER_DONE:
            ours = {**ours, "state": "failed", "terminationError": error}
        items[share["item_id"]] = {**ours, "partner": _partner_ref(link, OVC_ITEM)}
    return {**service_order, "item": items}


def _partner_ref(link: Document, partner_item: str) -> Document:
    """Which partner order item (and, once it completed, which partner product) serves our item."""
    found: Document = next((i for i in link.get("partnerOrderItem", []) if i["id"] == partner_item), {})
    return {
        "partnerId": link.get("partnerId"),
        "productOrderId": link.get("id"),
        "productOrderItemId": found.get("id"),
        "productId": found.get("productId"),
    }


def relate_partner_products(session: Session, order: Document, service_order: Document) -> None:
    """Say, in standard places, which partner order and product each off-net item relies on: a seller's
    note on the customer's order per partner order item, and on each completed product a
    ``productRelationship`` ``RELIES_ON`` the partner's product (its href in the partner's SONATA
    productInventory), so the inventory shows the EPL's relation to the partner product."""
    partner_urls: dict[str, str] = {}
    notes = order.setdefault("note", [])
    for item_id, item in service_order.get("item", {}).items():
        ref = item.get("partner")
        if not ref or not ref.get("productOrderId"):
            continue
        note_id = f"partner-order-{item_id}"
        if not any(note["id"] == note_id for note in notes):
            text = (
                f"Item {item_id} relies on partner {ref['partnerId']}: its product order "
                f"{ref['productOrderId']} item {ref['productOrderItemId']}"
            )
            if ref.get("productId"):
                text += f", product {ref['productId']}"
            notes.append(
                {"id": note_id, "author": "lso", "date": now_iso(), "source": "seller", "text": text}
            )
        product = PRODUCTS.find(session, product_id(order["id"], item_id))
        if product is None or not ref.get("productId"):
            continue
        relations = product.setdefault("productRelationship", [])
        if any(r["id"] == ref["productId"] for r in relations):
            continue
        if ref["partnerId"] not in partner_urls:
            partner_urls[ref["partnerId"]] = PARTNERS.get(session, ref["partnerId"])["sonataUrl"]
        href = f"{partner_urls[ref['partnerId']]}{INVENTORY}/product/{ref['productId']}"
        relations.append({"id": ref["productId"], "href": href, "relationshipType": RELIES_ON})
        PRODUCTS.put(session, product)
