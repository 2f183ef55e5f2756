"""What the items of a product order mean together, checked before the order is acknowledged.

A UNI item carries one place of role ``INSTALL_LOCATION`` that names a site of the provider's footprint;
an EVC item connects exactly two UNIs with ``CONNECTS_TO_UNI`` — UNI items of the same order
(``productOrderItemRelationship``) or active UNI products of the buyer (``productRelationship``). The
first UNI related is the EVC's End Point A, the second its End Point Z. Every problem found is reported
with the JSON pointer of the offending property, and the result is a :class:`Plan` the fulfilment turns
into services.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from lso.bus import places
from lso.bus.cantata.product_catalog import offering_for
from lso.bus.order.model import GeographicAddressRef, GeographicSiteRef, ProductOrderCreate
from lso.bus.order.records import PRODUCTS
from lso.bus.products import (
    EVC_TYPES,
    SUBSCRIBER_UNI,
    EvcConfiguration,
    validate_configuration,
)
from lso.mef.errors import Issue, MefError

INSTALL_LOCATION = "INSTALL_LOCATION"
CONNECTS_TO_UNI = "CONNECTS_TO_UNI"
EVC_END_POINTS = 2


@dataclass(frozen=True)
class UniRef:
    """One UNI an EVC connects to: an item of the same order or a product in inventory."""

    item_id: str | None = None
    product_id: str | None = None


@dataclass
class ItemPlan:
    item_id: str
    schema: str
    site_id: str | None = None
    unis: list[UniRef] = field(default_factory=list)

    @property
    def is_uni(self) -> bool:
        return self.schema == SUBSCRIBER_UNI


@dataclass
class Plan:
    items: list[ItemPlan]
    issues: list[Issue]

    def document(self, order_id: str) -> dict[str, Any]:
        """The plan as BUS stores it next to the order, for the fulfilment workflow to read."""
        return {
            "id": order_id,
            "item": [
                {
                    "id": p.item_id,
                    "schema": p.schema,
                    "siteId": p.site_id,
                    "uni": [{"itemId": u.item_id, "productId": u.product_id} for u in p.unis],
                }
                for p in self.items
            ],
        }


def analyse(session: Session, party: str, order: ProductOrderCreate) -> Plan:
    """Check ``order`` item by item; a :class:`Plan` with no issues can be fulfilled."""
    issues: list[Issue] = []
    plans: list[ItemPlan] = []
    schemas = _schemas(order)
    seen: set[str] = set()
    for index, item in enumerate(order.productOrderItem):
        pointer = f"/productOrderItem/{index}"
        if item.id in seen:
            issues.append(Issue(f"{pointer}/id", f"item id {item.id!r} is used twice in this order"))
        seen.add(item.id)
        if item.action != "add":
            issues.append(
                Issue(
                    f"{pointer}/action",
                    f"action {item.action!r} is not offered by this seller yet: order new products (add)",
                )
            )
            continue
        if item.product.id is not None:
            issues.append(
                Issue(
                    f"{pointer}/product/id",
                    "product.id must not be given when the action is add",
                    "unexpectedProperty",
                )
            )
        configuration = item.product.productConfiguration
        if configuration is None:
            issues.append(
                Issue(
                    f"{pointer}/product/productConfiguration",
                    "productConfiguration is required when the action is add",
                    "missingProperty",
                )
            )
            continue
        try:
            model = validate_configuration(configuration, f"{pointer}/product/productConfiguration")
        except MefError as error:
            issues.extend(error.issues)
            continue
        if isinstance(model, EvcConfiguration) and model.ingress_cir_mbps() <= 0:
            issues.append(
                Issue(
                    f"{pointer}/product/productConfiguration/evcEndPointA/"
                    "ingressBandwidthProfilePerClassofServiceName",
                    "the EVC needs an ingress bandwidth profile with a CIR above 0",
                    "missingProperty",
                )
            )
            continue
        offering = item.product.productOffering
        if offering is not None and offering_for(configuration["@type"]) != offering.id:
            issues.append(
                Issue(
                    f"{pointer}/product/productOffering/id",
                    f"offering {offering.id!r} does not sell {configuration['@type']} (see productCatalog)",
                    "referenceNotFound",
                )
            )
            continue
        plan = ItemPlan(item.id, configuration["@type"])
        if plan.is_uni:
            plan.site_id = _install_site(
                session, item.product.place or [], f"{pointer}/product/place", issues
            )
        elif plan.schema in EVC_TYPES:
            plan.unis = _connected_unis(session, party, item, schemas, pointer, issues)
        plans.append(plan)
    return Plan(plans, issues)


def _schemas(order: ProductOrderCreate) -> dict[str, str | None]:
    """The configuration ``@type`` of each item, so relationships can be checked in any item order."""
    found: dict[str, str | None] = {}
    for item in order.productOrderItem:
        configuration = item.product.productConfiguration or {}
        schema = configuration.get("@type")
        found[item.id] = schema if isinstance(schema, str) else None
    return found


def _install_site(session: Session, related: list[Any], pointer: str, issues: list[Issue]) -> str | None:
    installs = [(i, p) for i, p in enumerate(related) if p.role == INSTALL_LOCATION]
    if len(installs) != 1:
        issues.append(
            Issue(pointer, "a UNI needs exactly one place of role INSTALL_LOCATION", "missingProperty")
        )
        return None
    index, install = installs[0]
    site_id = site_of(session, install.place)
    if site_id is None:
        issues.append(
            Issue(
                f"{pointer}/{index}/place",
                "the install location must be one of the seller's geographic sites (or its address): "
                "see CANTATA geographicSite",
                "referenceNotFound",
            )
        )
    return site_id


def site_of(session: Session, place: Any) -> str | None:
    """The seller's site a place refers to: by site id, by the id of its address, or by an address query
    that matches one known address unambiguously."""
    if isinstance(place, GeographicSiteRef):
        return place.id if places.sites.find(session, place.id) else None
    if isinstance(place, GeographicAddressRef):
        site = places.site_of_address(session, place.id)
    else:
        best = places.match_address(session, place.model_dump(by_alias=True, exclude_none=True)).best
        site = places.site_of_address(session, best["id"]) if best else None
    return site["id"] if site else None


def _connected_unis(
    session: Session,
    party: str,
    item: Any,
    schemas: dict[str, str | None],
    pointer: str,
    issues: list[Issue],
) -> list[UniRef]:
    unis: list[UniRef] = []
    for index, relation in enumerate(item.productOrderItemRelationship or []):
        path = f"{pointer}/productOrderItemRelationship/{index}"
        if relation.relationshipType != CONNECTS_TO_UNI:
            issues.append(Issue(f"{path}/relationshipType", f"an EVC relates to UNIs by {CONNECTS_TO_UNI}"))
        elif relation.id not in schemas or relation.id == item.id:
            issues.append(
                Issue(f"{path}/id", f"no other item {relation.id!r} in this order", "referenceNotFound")
            )
        elif schemas[relation.id] != SUBSCRIBER_UNI:
            issues.append(Issue(f"{path}/id", f"item {relation.id!r} is not a subscriber UNI"))
        else:
            unis.append(UniRef(item_id=relation.id))
    for index, relation in enumerate(item.product.productRelationship or []):
        path = f"{pointer}/product/productRelationship/{index}"
        product = PRODUCTS.find(session, relation.id, party)
        if relation.relationshipType != CONNECTS_TO_UNI:
            issues.append(Issue(f"{path}/relationshipType", f"an EVC relates to UNIs by {CONNECTS_TO_UNI}"))
        elif product is None:
            issues.append(
                Issue(f"{path}/id", f"no product {relation.id!r} in your inventory", "referenceNotFound")
            )
        elif product.get("productConfiguration", {}).get("@type") != SUBSCRIBER_UNI:
            issues.append(Issue(f"{path}/id", f"product {relation.id!r} is not a subscriber UNI"))
        elif product.get("status") != "active":
            issues.append(Issue(f"{path}/id", f"UNI {relation.id!r} is {product.get('status')}, not active"))
        else:
            unis.append(UniRef(product_id=relation.id))
    if len(unis) != EVC_END_POINTS and not any(i.property_path.startswith(pointer + "/") for i in issues):
        issues.append(
            Issue(
                f"{pointer}/productOrderItemRelationship",
                f"a point-to-point EVC connects exactly two UNIs ({CONNECTS_TO_UNI}); {len(unis)} given",
                "missingProperty",
            )
        )
    return unis
