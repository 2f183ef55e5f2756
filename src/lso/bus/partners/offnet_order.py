"""A customer's EPL with one UNI off-net, as a product order (MEF 55.0.1 §10.2 step 6, the buyer side).

When the order is checked, a subscriber UNI at a place that is not ours but where a partner has a site is
planned as the partner's (``partner`` on its plan step, no site of ours) and the EVC on it is planned from
the on-net UNI to our side of that partner's ENNI. The LEGATO service order carries only the on-net part
(:func:`on_net`); the fulfilment orders the partner's share as a child workflow per EVC
(:mod:`lso.bus.partners.ordering`) and, once SOF is done, folds the partner's outcome into the items
(:func:`with_partner_outcomes`), so the customer's order completes only when both parts are done.

Each completed off-net product is recorded with the partner's product it relies on
(:data:`OFFNET_PRODUCTS`), so a later modify (new bandwidth) or delete (a disconnect: the EPL with its UNI
at the partner's site) of ours is planned with the partner's share it changes (:func:`partner_of`) and
the same workflow orders that change of the partner (:func:`share_requests`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from lso.bus.order.inventory import product_id
from lso.bus.order.records import PRODUCTS
from lso.bus.partners.offnet import OVC_ITEM, UNI_ITEM, locate_among
from lso.bus.partners.registry import PARTNERS
from lso.bus.products import UNI_TYPES, EvcConfiguration, validate_configuration
from lso.footprint import named_footprint
from lso.mef import runtime
from lso.mef.dates import now_iso
from lso.mef.store import Document, Store

PARTNER_DONE = "completed"
RELIES_ON = "RELIES_ON"
"""Our EPL (or the partner's UNI as our customer sees it) relies on the partner's product: not a relation
the EPL's product specification defines, so a name of our own that says what it is."""
INVENTORY = "/mefApi/sonata/productInventory/v8"
OFFNET_PRODUCTS = Store("bus.offnetProduct", "offnetProduct")
"""Per product of ours that a partner's product realises (an off-net EPL, its UNI at the partner's site):
the partner and its product, so a modify or delete of ours changes the partner's too."""


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
    theirs = {step["id"] for step in plan["item"] if step.get("partner") and step["schema"] in UNI_TYPES}
    steps = []
    for step in plan["item"]:
        if step["id"] in theirs:
            continue
        if step.get("partner"):
            step = {**step, "uni": [u for u in step["uni"] if u.get("itemId") not in theirs]}
        steps.append(step)
    return {**plan, "item": steps}


def share_requests(order: Document, plan: Document) -> list[Document]:
    """The partner order each off-net EVC item needs: its partner and site, its rates, its due date and,
    for a modify or delete, the partner's products it changes (``product_ids``: partner item → product)."""
    items = {item["id"]: item for item in order["productOrderItem"]}
    requests = []
    for step in plan["item"]:
        partner = step.get("partner")
        if not partner or step["schema"] in UNI_TYPES:
            continue
        action = step.get("action", "add")
        cir_mbps = eir_mbps = 0.0
        if action != "delete":
            configuration = validate_configuration(items[step["id"]]["product"]["productConfiguration"], "")
            assert isinstance(configuration, EvcConfiguration)
            cir_mbps, eir_mbps = configuration.ingress_cir_mbps(), configuration.ingress_eir_mbps()
        share = {
            "item_id": step["id"],
            "partner_id": partner["partnerId"],
            "site_id": partner.get("siteId", ""),
            "cir_mbps": cir_mbps,
            "eir_mbps": eir_mbps,
            "due": items[step["id"]]["requestedCompletionDate"],
            "uni_item_id": partner.get("uniItemId"),
            "action": action,
            "enni_id": (step.get("enni") or [None])[0],  # our side of the partner's ENNI
        }
        if action != "add":
            share |= _changed_partner_products(plan, partner, action)
        requests.append(share)
    return requests


def _changed_partner_products(plan: Document, partner: Document, action: str) -> Document:
    """A modify changes the partner's OVC; a delete (a disconnect: the EPL with its UNI at the partner's
    site, see :func:`partner_of`) deletes the OVC and the operator UNI, and the UNI item follows it."""
    products = {OVC_ITEM: partner["partnerProductId"]}
    if action != "delete":
        return {"product_ids": products}
    uni = next(s for s in plan["item"] if s.get("productId") == partner["uniProductId"])
    return {
        "product_ids": products | {UNI_ITEM: uni["partner"]["partnerProductId"]},
        "uni_item_id": uni["id"],
    }


def partner_of(session: Session, product: Document) -> Document | None:
    """The partner's share of one of our off-net products (None: on-net): the partner, its product and,
    for an EPL, our product of its UNI at the partner's site (``uniProductId``)."""
    record = OFFNET_PRODUCTS.find(session, product["id"])
    if record is None:
        return None
    share = {"partnerId": record["partnerId"], "partnerProductId": record["partnerProductId"]}
    if product["productConfiguration"]["@type"] in UNI_TYPES:
        return share
    unis = [
        r["id"] for r in product.get("productRelationship", []) if r["relationshipType"] == "CONNECTS_TO_UNI"
    ]
    return share | {"uniProductId": next(u for u in unis if OFFNET_PRODUCTS.find(session, u) is not None)}


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
        action = share.get("action", "add")
        if share.get("uni_item_id"):
            items[share["uni_item_id"]] = {
                "state": PARTNER_DONE if ok else "failed",
                "action": action,
                "serviceId": None,
                "terminationError": error,
                "partner": _partner_ref(link, UNI_ITEM),
            }
        ours = items.get(share["item_id"]) or {"state": "failed", "action": action, "serviceId": None}
        if not ok and ours.get("state") == PARTNER_DONE:
            ours = {**ours, "state": "failed", "terminationError": error}
        items[share["item_id"]] = {**ours, "partner": _partner_ref(link, OVC_ITEM)}
    return {**service_order, "item": items}


def refused_disconnect(shares: list[Document], links: dict[str, Document]) -> str | None:
    """Why our part of a disconnect is not asked for: the partner did not delete its share (None: it did,
    or ``links``, the partner orders ended so far, holds no disconnect)."""
    refused = [
        f"partner {share['partner_id']}: {links[share['item_id']].get('reason') or 'no reason given'}"
        for share in shares
        if share["item_id"] in links and links[share["item_id"]].get("state") != PARTNER_DONE
    ]
    if not refused:
        return None
    return f"the partner did not disconnect its part ({'; '.join(refused)}), so ours is left as it was"


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
            verb = "relies on" if item.get("action", "add") == "add" else f"({item['action']}) changes"
            text = (
                f"Item {item_id} {verb} partner {ref['partnerId']}: its product order "
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
        if OFFNET_PRODUCTS.find(session, product["id"]) is None:
            record = {
                "id": product["id"],
                "partnerId": ref["partnerId"],
                "partnerProductId": ref["productId"],
            }
            OFFNET_PRODUCTS.add(session, record)
        relations = product.setdefault("productRelationship", [])
        if any(r["id"] == ref["productId"] for r in relations):
            continue
        if ref["partnerId"] not in partner_urls:
            partner_urls[ref["partnerId"]] = PARTNERS.get(session, ref["partnerId"])["sonataUrl"]
        href = f"{partner_urls[ref['partnerId']]}{INVENTORY}/product/{ref['productId']}"
        relations.append({"id": ref["productId"], "href": href, "relationshipType": RELIES_ON})
        PRODUCTS.put(session, product)
