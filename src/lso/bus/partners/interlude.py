"""The INTERLUDE option (MEF 55.0.1 §10.2 step 9b-a), chosen per partner by its policy ``via``.

For a partner on INTERLUDE, BUS does not buy the partner's share over SONATA (serviceability and quote
still are): it names the partner on the off-net EVC's LEGATO service order item (``service.partnerShare``:
the partner, its INTERLUDE base URL and credentials, its site for the far UNI, its id of the ENNI), and our
SOF orders the share from the partner's SOF directly, runs the end-to-end activation test with it and
completes the EVC item only when both parts are active and tested (``lso.sof.interlude_client``). SOF's
outcome of that item is then the partner's outcome too (:func:`outcomes`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from lso.bus.partners.registry import PARTNERS
from lso.mef.store import Document

SHARE_KEY = "partnerShare"


def by_interlude(session: Session, share: Document) -> bool:
    """Whether the partner of ``share`` (see ``offnet_order.share_requests``) is ordered over INTERLUDE."""
    partner = PARTNERS.find(session, share["partner_id"]) or {}
    return bool(partner.get("policies", {}).get("via") == "interlude")


def with_partner_shares(session: Session, body: Document, shares: list[Document]) -> Document:
    """The LEGATO service order with each INTERLUDE share named on its EVC item."""
    named = {share["item_id"]: _share(session, share) for share in shares if by_interlude(session, share)}
    if not named:
        return body
    items = [
        {**item, "service": {**item["service"], SHARE_KEY: named[item["id"]]}}
        if item["id"] in named
        else item
        for item in body["serviceOrderItem"]
    ]
    return {**body, "serviceOrderItem": items}


def _share(session: Session, share: Document) -> Document:
    partner = PARTNERS.get(session, share["partner_id"])
    return {
        "partnerId": partner["id"],
        # An lso partner serves INTERLUDE where it serves SONATA unless it registered another URL.
        "interludeUrl": partner.get("interludeUrl") or partner["sonataUrl"],
        "clientId": partner["clientId"],
        "clientSecret": partner["clientSecret"],
        "siteId": share["site_id"],
        "partnerEnniId": partner["enni"][0]["partnerEnniId"],
    }


def outcomes(service_order: dict[str, Any], shares: list[Document]) -> dict[str, Document]:
    """Per EVC item of an INTERLUDE share, the partner's outcome: SOF's outcome of that item."""
    links = {}
    for share in shares:
        item = service_order.get("item", {}).get(share["item_id"]) or {}
        reasons = [e.get("value") for e in item.get("terminationError") or [] if e.get("value")]
        links[share["item_id"]] = {
            "state": item.get("state") or service_order.get("state"),
            "reason": "; ".join(str(r) for r in reasons) or None,
        }
    return links
