"""Pre-order items and their serviceability, shared by POQ and quote (MEF 55.0.1 §10.2 steps 2-3c).

A POQ or quote names products the MEF way: a UNI item has a place of role ``INSTALL_LOCATION``; an EVC
item relates to its two UNI items with ``CONNECTS_TO_UNI``; an Access E-Line OVC (SONATA) to one UNI item
with ``CONNECTS_TO_UNI`` and to the buyer's ENNI product in inventory with ``CONNECTS_TO_ENNI``.
:func:`parse_items` checks that shape when the request arrives (a 422 with property paths, nothing
stored); :func:`assess` later resolves each UNI's place to one of our sites (an ENNI's: the site of its
element) and asks SOF over LEGATO whether the connection between them can be delivered.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from lso.bus import places
from lso.bus.cantata.product_catalog import OFFERINGS
from lso.bus.irp import SellerIrp
from lso.bus.legato_client import LegatoClient, LegatoError
from lso.bus.order.records import PRODUCTS
from lso.bus.partners import offnet
from lso.bus.pricing import item_term
from lso.bus.products import (
    ACCESS_ELINE_OVC,
    ENNI,
    EVC_TYPES,
    AccessElineOvcConfiguration,
    EvcConfiguration,
    OperatorUniConfiguration,
    ProductConfiguration,
    SubscriberUniConfiguration,
    validate_configuration,
)
from lso.mef.body import parse_model
from lso.mef.errors import Issue, unprocessable

INSTALL_LOCATION = "INSTALL_LOCATION"
CONNECTS_TO_UNI = "CONNECTS_TO_UNI"
CONNECTS_TO_ENNI = "CONNECTS_TO_ENNI"
# A UNI on its own at an on-net site needs a port patched, nothing more.
UNI_INSTALLATION = {"amount": 10, "units": "businessDays"}
DEFAULT_PARTNER_TERM_MONTHS = 12


class _RelatedPlace(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str
    place: dict[str, Any]


class _OfferingRef(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str


class _Product(BaseModel):
    model_config = ConfigDict(extra="allow")
    productOffering: _OfferingRef | None = None
    productConfiguration: dict[str, Any]
    place: list[_RelatedPlace] | None = None
    productRelationship: list[dict[str, Any]] | None = None


class _Relationship(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    relationshipType: str


class _Item(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str = Field(min_length=1)
    action: str
    product: _Product


@dataclass(frozen=True)
class PreorderItem:
    """One POQ or quote item, checked: its configuration model, its install place or its two UNIs."""

    id: str
    configuration: ProductConfiguration
    install_place: dict[str, Any] | None = None
    uni_item_ids: tuple[str, ...] = ()
    enni_product_id: str | None = None
    term_months: int | None = None
    """A quote item's requested term: the partner's share of an off-net EPL is quoted for the same."""

    @property
    def is_evc(self) -> bool:
        """An EVC or an OVC: a connection whose serviceability SOF judges between its end points."""
        return isinstance(self.configuration, EvcConfiguration | AccessElineOvcConfiguration)


def _months(data: dict[str, Any]) -> int | None:
    """The months of a quote item's ``requestedQuoteItemTerm`` (the quote checks it is one it offers)."""
    duration = (data.get("requestedQuoteItemTerm") or {}).get("duration") or {}
    amount, units = duration.get("amount"), duration.get("units")
    if not isinstance(amount, int) or units not in ("months", "years"):
        return None
    return amount * 12 if units == "years" else amount


def parse_items(raw: list[Any], items_key: str, relationship_key: str, irp: SellerIrp) -> list[PreorderItem]:
    """The items of a create request, or a MEF 422 naming the offending property."""
    parsed = [parse_model(_Item, item, f"/{items_key}/{i}") for i, item in enumerate(raw)]
    ids = [item.id for item in parsed]
    items = []
    for i, (item, data) in enumerate(zip(parsed, raw, strict=True)):
        at = f"/{items_key}/{i}"
        if ids.index(item.id) != i:
            raise unprocessable(Issue(f"{at}/id", f"item id {item.id} is used more than once"))
        if item.action != "add":
            raise unprocessable(Issue(f"{at}/action", f"only action add is offered, not {item.action}"))
        configuration = validate_configuration(
            item.product.productConfiguration, f"{at}/product/productConfiguration"
        )
        _check_offering(item, configuration, at, irp)
        if configuration.type == ACCESS_ELINE_OVC:
            items.append(_ovc_item(item, configuration, data, at, relationship_key, ids))
            continue
        if item.product.productRelationship:
            raise unprocessable(
                Issue(
                    f"{at}/product/productRelationship",
                    "relating to products in inventory is not offered yet",
                )
            )
        if configuration.type in EVC_TYPES:
            related = [_Relationship.model_validate(r) for r in (data.get(relationship_key) or [])]
            unis = tuple(r.id for r in related if r.relationshipType == CONNECTS_TO_UNI)
            if len(unis) != 2 or any(uni not in ids for uni in unis):
                raise unprocessable(
                    Issue(
                        f"{at}/{relationship_key}",
                        "an EVC item CONNECTS_TO_UNI exactly two UNI items of this request",
                    )
                )
            items.append(PreorderItem(item.id, configuration, uni_item_ids=unis, term_months=_months(data)))
        else:
            installs = [p.place for p in item.product.place or [] if p.role == INSTALL_LOCATION]
            if len(installs) != 1:
                raise unprocessable(
                    Issue(f"{at}/product/place", "a UNI item has exactly one place of role INSTALL_LOCATION")
                )
            items.append(PreorderItem(item.id, configuration, install_place=installs[0]))
    by_id = {item.id: item for item in items}
    for i, checked in enumerate(items):
        if any(by_id[uni].is_evc for uni in checked.uni_item_ids):
            raise unprocessable(
                Issue(f"/{items_key}/{i}/{relationship_key}", "CONNECTS_TO_UNI must name UNI items")
            )
    return items


def _ovc_item(
    item: _Item,
    configuration: ProductConfiguration,
    data: Any,
    at: str,
    relationship_key: str,
    ids: list[str],
) -> PreorderItem:
    """An Access E-Line OVC: one UNI item of this request and one ENNI product of the buyer."""
    related = [_Relationship.model_validate(r) for r in (data.get(relationship_key) or [])]
    unis = tuple(r.id for r in related if r.relationshipType == CONNECTS_TO_UNI)
    if len(unis) != 1 or unis[0] not in ids:
        raise unprocessable(
            Issue(
                f"{at}/{relationship_key}",
                "an Access E-Line OVC item CONNECTS_TO_UNI one UNI item of this request",
            )
        )
    products = [_Relationship.model_validate(r) for r in item.product.productRelationship or []]
    ennis = [r.id for r in products if r.relationshipType == CONNECTS_TO_ENNI]
    if len(ennis) != 1 or len(products) != 1:
        raise unprocessable(
            Issue(
                f"{at}/product/productRelationship",
                "an Access E-Line OVC CONNECTS_TO_ENNI one ENNI product of yours (see productInventory)",
            )
        )
    return PreorderItem(item.id, configuration, uni_item_ids=unis, enni_product_id=ennis[0])


def _check_offering(item: _Item, configuration: ProductConfiguration, at: str, irp: SellerIrp) -> None:
    sold = {o.urn for o in OFFERINGS.values() if o.irp == irp}
    if configuration.type not in sold:
        raise unprocessable(
            Issue(
                f"{at}/product/productConfiguration/@type",
                f"{configuration.type} is not sold over {irp.name.upper()}; see its productCatalog",
            )
        )
    offering = item.product.productOffering
    known = OFFERINGS.get(offering.id) if offering is not None else None
    if offering is not None and (known is None or known.urn != configuration.type or known.irp != irp):
        raise unprocessable(
            Issue(
                f"{at}/product/productOffering/id",
                f"offering {offering.id} does not sell {configuration.type}",
            )
        )


@dataclass
class Assessment:
    """The serviceability of one item: MEF confidence colour, why, how soon, and for an EVC how far."""

    confidence: str
    reason: str | None = None
    installation_interval: dict[str, Any] = field(default_factory=lambda: dict(UNI_INSTALLATION))
    distance_km: float | None = None
    site_id: str | None = None
    partner: dict[str, Any] | None = None
    """For an EVC with one UNI off-net: the partner's offer for its share (:mod:`lso.bus.partners.offnet`)."""

    @property
    def serviceable(self) -> bool:
        return self.confidence != "red"


def assess(
    session_factory: Any, legato: LegatoClient, items: list[PreorderItem], party: str | None
) -> dict[str, Assessment]:
    """Assess every item: UNIs by where they are, EVCs by SOF's feasibility check between their UNIs.

    ``session_factory`` opens a database session (sites are read from BUS's store); the LEGATO call is
    made outside any transaction. A UNI on an EVC takes the EVC's answer (when both its UNIs are on-net).
    An OVC's ENNI must be a product of ``party``, the buyer asking.
    """
    with session_factory() as session:
        result = {item.id: _assess_uni(session, item) for item in items if not item.is_evc}
        ennis = {
            item.id: _assess_enni(session, item.enni_product_id, party)
            for item in items
            if item.enni_product_id
        }
    for item in items:
        if item.is_evc:
            unis_on_net = all(result[uni].serviceable for uni in item.uni_item_ids)
            ends = [result[uni] for uni in item.uni_item_ids] + ([ennis[item.id]] if item.id in ennis else [])
            result[item.id] = _assess_evc(legato, item, ends)
            if not unis_on_net and _served_with_partner(legato, item, items, result):
                continue
            if not unis_on_net:
                continue  # the EVC fails for an off-net UNI; the other UNI can still be delivered alone
            for uni in item.uni_item_ids:
                if result[uni].serviceable and not result[item.id].serviceable:
                    result[uni] = Assessment("red", result[item.id].reason, site_id=result[uni].site_id)
                elif result[uni].serviceable:
                    result[uni].confidence = result[item.id].confidence
                    result[uni].installation_interval = result[item.id].installation_interval
    return result


def _served_with_partner(
    legato: LegatoClient, item: PreorderItem, items: list[PreorderItem], result: dict[str, Assessment]
) -> bool:
    """An EPL with one UNI off-net but in a partner's footprint (MEF 55.0.1 §10.2 steps 3a-3e): our
    segment runs from the on-net UNI to our side of the ENNI (SOF's feasibility check), the partner's from
    there to the off-net UNI (its POQ and quote). Updates ``result`` and says whether a partner served it."""
    off_net = [uni for uni in item.uni_item_ids if not result[uni].serviceable]
    if (
        not isinstance(item.configuration, EvcConfiguration)
        or len(off_net) != 1
        or len(item.uni_item_ids) != 2
    ):
        return False
    place = next(i.install_place for i in items if i.id == off_net[0])
    cir, eir = item.configuration.ingress_cir_mbps(), item.configuration.ingress_eir_mbps()
    offer = offnet.serve(place or {}, cir, eir, item_term(item.term_months or DEFAULT_PARTNER_TERM_MONTHS))
    if offer is None:
        return False
    on_net = next(uni for uni in item.uni_item_ids if uni not in off_net)
    ours = _assess_evc(legato, item, [result[on_net], Assessment("green", site_id=offer.enni_site_id)])
    confidence = max(ours.confidence, offer.confidence, key=("green", "yellow", "red").index)
    reason = "; ".join(r for r in (ours.reason, offer.reason) if r) or None
    interval = max(
        ours.installation_interval, offer.installation_interval or {}, key=lambda i: i.get("amount", 0)
    )
    evc = Assessment(confidence, reason, interval, ours.distance_km, partner=offer.as_json())
    result[item.id] = evc
    for uni in item.uni_item_ids:
        site = result[uni].site_id if uni == on_net else None
        result[uni] = Assessment(confidence, reason, dict(interval), site_id=site)
    return True


def _assess_uni(session: Session, item: PreorderItem) -> Assessment:
    site, reason = _site_of(session, item.install_place or {})
    if site is None:
        return Assessment("red", reason)
    return Assessment("green", site_id=site)


def _assess_enni(session: Session, enni_product_id: str | None, party: str | None) -> Assessment:
    """An ENNI end point is at the site of the element that terminates it (the place of its product)."""
    product = PRODUCTS.find(session, enni_product_id, party) if enni_product_id and party else None
    if product is None or product.get("productConfiguration", {}).get("@type") != ENNI:
        return Assessment("red", f"no ENNI product {enni_product_id} in your inventory")
    return Assessment("green", site_id=product["place"][0]["place"]["id"])


def _site_of(session: Session, place: dict[str, Any]) -> tuple[str | None, str]:
    """Our site at ``place`` (a site ref, an address ref or an address query), or why there is none."""
    kind, ident = place.get("@type"), place.get("id")
    if kind == "GeographicSiteRef" and places.sites.find(session, str(ident)) is not None:
        return str(ident), ""
    if kind == "GeographicAddressRef":
        site = places.site_of_address(session, str(ident))
        if site is not None:
            return site["id"], ""
    if kind == "GeographicAddress_Query":
        best = places.match_address(session, place).best
        site = places.site_of_address(session, best["id"]) if best else None
        if site is not None:
            return site["id"], ""
    named = f"{kind} {ident}" if ident else str(kind)
    return None, f"{named} is off-net: not at one of the provider's sites"


def _assess_evc(legato: LegatoClient, item: PreorderItem, unis: list[Assessment]) -> Assessment:
    off_net = [uni.reason for uni in unis if not uni.serviceable]
    if off_net:
        return Assessment("red", "; ".join(r for r in off_net if r))
    assert isinstance(item.configuration, EvcConfiguration | AccessElineOvcConfiguration)
    cir, eir = item.configuration.ingress_cir_mbps(), item.configuration.ingress_eir_mbps()
    try:
        answer = legato.check_feasibility([str(uni.site_id) for uni in unis], cir, eir)
    except LegatoError as exc:
        if exc.status >= 500:
            raise  # SOF could not answer now: a workflow step retries, an immediate request fails
        return Assessment("red", f"the network cannot assess this EVC: {exc.body}")
    return Assessment(
        confidence=answer["serviceabilityConfidence"],
        reason=answer.get("reason"),
        installation_interval=answer.get("installationInterval") or dict(UNI_INSTALLATION),
        distance_km=answer.get("distanceKm"),
    )


def uni_speed_mbps(item: PreorderItem) -> int | None:
    return (
        item.configuration.port_speed_mbps()
        if isinstance(item.configuration, SubscriberUniConfiguration | OperatorUniConfiguration)
        else None
    )


def assessment_json(assessment: Assessment) -> dict[str, Any]:
    """An assessment as plain JSON, the shape DBOS records as a step's output."""
    return asdict(assessment)


def assessment_of(data: dict[str, Any]) -> Assessment:
    return Assessment(**data)
