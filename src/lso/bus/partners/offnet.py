"""The partner's share of an EPL whose one end is off-net (MEF 55.0.1 §10.2 steps 3a-3e, 6: the buyer).

Our customer's EPL runs from a UNI at one of our sites to a site only a partner reaches. We carry it from
that UNI to our side of the ENNI towards the partner (SOF's feasibility check over LEGATO measures that
segment); the partner sells us the rest as an Access E-Line OVC from an operator UNI at its site to its
side of the same ENNI. This module finds the partner that serves a place (its area policy, then its
geographicSite API), asks it for serviceability (POQ) and a price (quote) for that OVC and UNI, and writes
the request bodies — POQ, quote and order share one item shape, as the Kylie SONATA documents do.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from lso.bus.partners.onboarding import sonata
from lso.bus.partners.registry import active_partners, serves_area
from lso.bus.sonata_client import SonataClient, SonataError
from lso.db import Database
from lso.footprint import named_footprint
from lso.mef import runtime
from lso.mef.store import Document

log = logging.getLogger(__name__)

ACCESS_ELINE_OVC = "urn:mef:lso:spec:sonata:access-eline-ovc:v5.0.0:all"
OPERATOR_UNI = "urn:mef:lso:spec:sonata:carrier-ethernet-operator-uni:v5.0.0:all"
UNI_ITEM = "partner-uni"
OVC_ITEM = "partner-ovc"
CLASS_OF_SERVICE = "H"
_CONFIDENCE_ORDER = ("green", "yellow", "red")


@dataclass(frozen=True)
class PartnerSite:
    """A place served by a partner: the partner record and its site there."""

    partner: Document
    site: Document

    @property
    def enni(self) -> Document:
        """The ENNI the OVC reaches us through (the first registered; one per partner in practice)."""
        return dict(self.partner["enni"][0])


@dataclass
class PartnerOffer:
    """What the partner answered for its share: serviceability, when, and at what price."""

    partner_id: str
    site_id: str
    confidence: str
    reason: str | None = None
    installation_interval: dict[str, Any] | None = None
    mrc: float = 0.0
    nrc: float = 0.0
    currency: str | None = None
    poq_id: str | None = None
    quote_id: str | None = None
    enni: dict[str, Any] = field(default_factory=dict)
    enni_site_id: str | None = None
    """Our site where our side of the ENNI is: the far end of the on-net segment."""

    @property
    def serviceable(self) -> bool:
        return self.confidence != "red"

    def as_json(self) -> Document:
        return asdict(self)


def locate(db: Database, place: dict[str, Any]) -> PartnerSite | None:
    """The first active SONATA partner with a site at ``place`` (asked of the partner, so its footprint
    is always current); a place outside a partner's areas is not asked about."""
    with db.read() as session:
        partners = sonata_partners(session)
    return locate_among(partners, place)


def sonata_partners(session: Session) -> list[Document]:
    # Every partner is asked over SONATA for sites, POQ and quote; its ``via`` policy only decides how
    # its share is ordered (SONATA by BUS, or INTERLUDE by SOF: bus/partners/interlude.py).
    return active_partners(session)


def locate_among(partners: list[Document], place: dict[str, Any]) -> PartnerSite | None:
    for partner in partners:
        known = _learned_site(partner, place)
        if known is not None:
            return PartnerSite(partner, known)
        if place.get("@type") != "GeographicAddress_Query" or not serves_area(partner, place):
            continue
        client = sonata(partner)
        try:
            sites = client.sites_at(place)
        except SonataError as exc:  # one partner down does not stop us asking the next
            log.warning("partner %s: site search failed: %s", partner["id"], exc)
            continue
        finally:
            client.close()
        if sites:
            return PartnerSite(partner, sites[0])
    return None


def _learned_site(partner: Document, place: dict[str, Any]) -> Document | None:
    if place.get("@type") != "GeographicSiteRef":
        return None
    return next((s for s in partner.get("site", []) if s["id"] == place.get("id")), None)


def access_items(
    where: PartnerSite,
    cir_mbps: float,
    eir_mbps: float,
    relationship_key: str,
    physical_link: str,
    s_vlan_id: int | None = None,
) -> list[Document]:
    """The two items of every request to the partner: an operator UNI at its site and an Access E-Line
    OVC from that UNI to the partner's side of the ENNI (a product of ours in its inventory) — in an
    order, mapped at the ENNI to the S-VLAN ``s_vlan_id`` we agreed (bus/partners/enni_svlan.py)."""
    uni = {
        "id": UNI_ITEM,
        "action": "add",
        "product": {
            "productConfiguration": {
                "@type": OPERATOR_UNI,
                "listOfPhysicalLinks": [{"id": "link-1", "physicalLink": physical_link}],
            },
            "place": [
                {"role": "INSTALL_LOCATION", "place": {"@type": "GeographicSiteRef", "id": where.site["id"]}}
            ],
        },
    }
    ovc = {
        "id": OVC_ITEM,
        "action": "add",
        "product": {
            "productConfiguration": ovc_configuration(cir_mbps, eir_mbps, s_vlan_id),
            "productRelationship": [
                {"id": where.enni["partnerEnniId"], "relationshipType": "CONNECTS_TO_ENNI"}
            ],
        },
        relationship_key: [{"id": UNI_ITEM, "relationshipType": "CONNECTS_TO_UNI"}],
    }
    return [uni, ovc]


def ovc_configuration(cir_mbps: float, eir_mbps: float, s_vlan_id: int | None = None) -> Document:
    """The Access E-Line OVC we buy: one class of service, the same bandwidth profile at both End Points
    (what a modify changes, the rest staying as ordered) and, when stated, the S-VLAN its ENNI End Point
    is mapped to (``ovcEndPointMap`` form E, MEF 26.2 §16.5)."""
    flow = {
        "cir": {"irValue": cir_mbps, "irUnits": "MBPS"},
        "eir": {"irValue": eir_mbps, "irUnits": "MBPS"},
    }
    end_point = {
        "ingressBandwidthProfilePerClassOfServiceName": [
            {"classOfServiceName": CLASS_OF_SERVICE, "bwpFlow": flow}
        ]
    }
    return {
        "@type": ACCESS_ELINE_OVC,
        "listOfClassOfServiceNames": [CLASS_OF_SERVICE],
        "uniEp": end_point,
        "enniEp": end_point
        if s_vlan_id is None
        else {**end_point, "ovcEndPointMap": {"mapType": "FORM_E", "ovcEndPointMapFormE": [s_vlan_id]}},
    }


def delete_items(product_ids: dict[str, str]) -> list[Document]:
    """The ``delete`` items of the partner's products (partner item → product): the OVC first, as the
    seller deletes a UNI only with, or after, the OVCs on it."""
    return [
        {"id": item, "action": "delete", "product": {"id": product_ids[item]}}
        for item in (OVC_ITEM, UNI_ITEM)
        if product_ids.get(item)
    ]


def buyer_contact(provider: str) -> Document:
    return {
        "role": "buyerContactInformation",
        "name": f"{provider} partner desk",
        "emailAddress": "partners@lso.example",
        "number": "+44 20 7946 0001",
    }


def poq_body(items: list[Document], provider: str) -> Document:
    return {
        "instantSyncQualification": True,
        "provideAlternative": False,
        "relatedContactInformation": [buyer_contact(provider)],
        "productOfferingQualificationItem": items,
    }


def quote_body(items: list[Document], term: Document) -> Document:
    return {
        "instantSyncQuote": True,
        "buyerRequestedQuoteLevel": "firm",
        "quoteItem": [{**item, "requestedQuoteItemTerm": term} for item in items],
    }


def order_body(
    items: list[Document], external_id: str, provider: str, quote_id: str | None, requested_completion: str
) -> Document:
    """The partner order: ``externalId`` is our order item's key, so a retried step finds the order it
    placed instead of placing another."""
    ordered = []
    for item in items:
        placed = {**item, "requestedCompletionDate": requested_completion}
        if quote_id:
            placed["quoteItem"] = {"quoteId": quote_id, "id": item["id"]}
        ordered.append(placed)
    return {
        "externalId": external_id,
        "relatedContactInformation": [buyer_contact(provider)],
        "productOrderItem": ordered,
    }


def request_offer(
    where: PartnerSite,
    cir_mbps: float,
    eir_mbps: float,
    term: Document,
    provider: str,
    physical_link: str = "1000BASE_LX",
) -> PartnerOffer:
    """Serviceability (POQ) then, when serviceable, the price (quote) of the partner's share."""
    partner = where.partner
    offer = PartnerOffer(partner["id"], str(where.site["id"]), "red", enni=where.enni)
    client: SonataClient = sonata(partner)
    try:
        poq_items = access_items(where, cir_mbps, eir_mbps, "qualificationItemRelationship", physical_link)
        poq = client.create_poq(poq_body(poq_items, provider))
        offer.poq_id = poq.get("id")
        _qualified(offer, poq)
        if not offer.serviceable:
            return offer
        quote_items = access_items(where, cir_mbps, eir_mbps, "quoteItemRelationship", physical_link)
        quote = client.create_quote(quote_body(quote_items, term))
        offer.quote_id = quote.get("id")
        _priced(offer, quote)
    finally:
        client.close()
    ceiling = partner.get("policies", {}).get("priceCeiling")
    if offer.serviceable and ceiling is not None and offer.mrc > ceiling:
        offer.confidence = "red"
        offer.reason = f"partner {partner['id']} asks {offer.mrc} a month, above the ceiling of {ceiling}"
    return offer


def _qualified(offer: PartnerOffer, poq: Document) -> None:
    items = poq.get("productOfferingQualificationItem") or []
    colours = [str(i.get("serviceabilityConfidence") or "red") for i in items]
    offer.confidence = max(colours, key=_CONFIDENCE_ORDER.index) if colours else "red"
    reasons = [str(r) for i in items for r in _reasons(i)]
    offer.reason = "; ".join(reasons) or None
    intervals = [i["installationInterval"] for i in items if i.get("installationInterval")]
    offer.installation_interval = max(intervals, key=lambda d: d.get("amount", 0), default=None)


def _reasons(item: Document) -> list[Any]:
    reason = item.get("serviceabilityConfidenceReason")
    return [reason] if reason else []


def _priced(offer: PartnerOffer, quote: Document) -> None:
    """The partner's charges for its share: the sum over its quote items, by charge type."""
    unable = [i for i in quote.get("quoteItem") or [] if i.get("state") == "unableToProvide"]
    if unable or quote.get("state") not in {"approved.orderable", "answered"}:
        offer.confidence = "red"
        offer.reason = f"the partner's quote {quote.get('id')} is {quote.get('state')}"
        return
    for item in quote.get("quoteItem") or []:
        for price in item.get("quoteItemPrice") or []:
            amount = (price.get("price") or {}).get("dutyFreeAmount") or {}
            offer.currency = amount.get("unit", offer.currency)
            if price.get("priceType") == "recurring":
                offer.mrc = round(offer.mrc + float(amount.get("value", 0)), 2)
            elif price.get("priceType") == "nonRecurring":
                offer.nrc = round(offer.nrc + float(amount.get("value", 0)), 2)


def serve(place: dict[str, Any], cir_mbps: float, eir_mbps: float, term: Document) -> PartnerOffer | None:
    """The partner offer for an off-net UNI at ``place`` (None: no partner serves it). A partner that
    cannot answer now gives a red offer with its reason rather than failing the customer's request."""
    rt = runtime.current()
    where = locate(rt.db, place)
    if where is None:
        return None
    ours = named_footprint(rt.settings.footprint).site_of_element(where.enni["element"])
    try:
        offer = request_offer(where, cir_mbps, eir_mbps, term, rt.settings.name)
    except SonataError as exc:
        offer = PartnerOffer(where.partner["id"], str(where.site["id"]), "red", reason=f"partner: {exc}")
    offer.enni_site_id = ours.id if ours else None
    if ours is None:
        offer.confidence, offer.reason = "red", f"no site of ours holds ENNI element {where.enni['element']}"
    return offer
