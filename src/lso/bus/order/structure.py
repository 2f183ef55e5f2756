"""What the items of a product order mean together, checked before the order is acknowledged.

A UNI item carries one place of role ``INSTALL_LOCATION`` that names a site of the provider's footprint;
an EVC item connects exactly two UNIs with ``CONNECTS_TO_UNI`` — UNI items of the same order
(``productOrderItemRelationship``) or active UNI products of the buyer (``productRelationship``). The
first UNI related is the EVC's End Point A, the second its End Point Z. An Access E-Line OVC (SONATA)
connects one operator UNI the same way and one ENNI product of the buyer with ``CONNECTS_TO_ENNI``. A
modify or delete item names an active product of the buyer by ``product.id`` (MEF 55.0.1 §10.3; see
:func:`_change`). Every problem found is reported with the JSON pointer of the offending property, and
the result is a :class:`Plan` the fulfilment turns into services.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from lso.bus import places
from lso.bus.cantata.product_catalog import offering_for
from lso.bus.irp import SellerIrp
from lso.bus.order import svlan
from lso.bus.order.model import GeographicAddressRef, GeographicSiteRef, ProductOrderCreate
from lso.bus.order.records import PRODUCTS, REALIZATIONS
from lso.bus.partners import offnet_order
from lso.bus.partners.offnet import sonata_partners
from lso.bus.products import (
    ACCESS_ELINE_OVC,
    ENNI,
    EVC_TYPES,
    OPERATOR_UNI,
    SUBSCRIBER_UNI,
    UNI_TYPES,
    AccessElineOvcConfiguration,
    EvcConfiguration,
    validate_configuration,
)
from lso.db import Database
from lso.mef.errors import Issue, MefError
from lso.mef.store import Document

INSTALL_LOCATION = "INSTALL_LOCATION"
CONNECTS_TO_UNI = "CONNECTS_TO_UNI"
CONNECTS_TO_ENNI = "CONNECTS_TO_ENNI"
EVC_END_POINTS = 2
CONNECTION_TYPES = EVC_TYPES | {ACCESS_ELINE_OVC}
"""What connects UNIs (and ENNIs): the products a UNI cannot be deleted under."""
_FIXED_IN_SERVICE = {
    EvcConfiguration: ("maximumFrameSize", "listOfCosNames"),
    AccessElineOvcConfiguration: ("maximumFrameSize", "listOfClassOfServiceNames"),
}
"""What a modify must leave as it is: the network reconfigures an EVC's (or OVC's) bandwidth profiles in
service."""


@dataclass(frozen=True)
class UniRef:
    """One UNI an EVC connects to: an item of the same order or a product in inventory."""

    item_id: str | None = None
    product_id: str | None = None


@dataclass
class ItemPlan:
    """One item: what it adds (a UNI at a site, an EVC on UNIs), or the product it modifies or deletes."""

    item_id: str
    schema: str
    site_id: str | None = None
    unis: list[UniRef] = field(default_factory=list)
    action: str = "add"
    product_id: str | None = None
    ennis: list[str] = field(default_factory=list)
    partner: dict[str, Any] | None = None
    """Off-net: the partner serving this UNI, or the EVC's far end (see lso.bus.partners.offnet_order)."""

    @property
    def is_uni(self) -> bool:
        return self.schema in UNI_TYPES


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
                    "action": p.action,
                    "productId": p.product_id,
                    "enni": p.ennis,
                    "partner": p.partner,
                }
                for p in self.items
            ],
        }


def locate_partner_sites(db: Database, order: ProductOrderCreate) -> dict[str, Document]:
    """Per subscriber UNI item to install at a place that is not ours, the partner with a site there
    (MEF 55.0.1 §10.2 step 6). The partners are asked over the network, so this runs before the order's
    transaction opens: a slow partner then holds no database lock (and no other writer) back."""
    wanted = {}
    with db.read() as session:
        for item in order.productOrderItem:
            configuration = item.product.productConfiguration or {}
            installs = [p.place for p in item.product.place or [] if p.role == INSTALL_LOCATION]
            if item.action != "add" or configuration.get("@type") != SUBSCRIBER_UNI or len(installs) != 1:
                continue
            if site_of(session, installs[0]) is None:
                wanted[item.id] = installs[0].model_dump(by_alias=True, exclude_none=True)
        partners = sonata_partners(session) if wanted else []
    found = {item_id: offnet_order.partner_for_place(partners, place) for item_id, place in wanted.items()}
    return {item_id: partner for item_id, partner in found.items() if partner is not None}


def analyse(
    session: Session,
    party: str,
    order: ProductOrderCreate,
    irp: SellerIrp,
    partner_sites: dict[str, Document] | None = None,
) -> Plan:
    """Check ``order`` item by item; a :class:`Plan` with no issues can be fulfilled. ``partner_sites``
    (see :func:`locate_partner_sites`) says which UNI items a partner serves."""
    partner_sites = partner_sites or {}
    issues: list[Issue] = []
    plans: list[ItemPlan] = []
    schemas = _schemas(order)
    seen: set[str] = set()
    deleting = {i.product.id for i in order.productOrderItem if i.action == "delete" and i.product.id}
    changing: set[str] = set()
    taken: dict[tuple[str, int], str] = {}  # S-VLAN IDs stated at an ENNI by earlier items
    for index, item in enumerate(order.productOrderItem):
        pointer = f"/productOrderItem/{index}"
        if item.id in seen:
            issues.append(Issue(f"{pointer}/id", f"item id {item.id!r} is used twice in this order"))
        seen.add(item.id)
        if item.action != "add":
            change = _change(session, party, item, pointer, deleting, changing, issues)
            if change is not None:
                plans.append(change)
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
        if offering_for(configuration["@type"], irp) is None:
            issues.append(
                Issue(
                    f"{pointer}/product/productConfiguration/@type",
                    f"{configuration['@type']} is not sold over {irp.name.upper()} (see productCatalog)",
                )
            )
            continue
        if (
            isinstance(model, EvcConfiguration | AccessElineOvcConfiguration)
            and model.ingress_cir_mbps() <= 0
        ):
            profile = (
                "evcEndPointA/ingressBandwidthProfilePerClassofServiceName"
                if isinstance(model, EvcConfiguration)
                else "uniEp/ingressBandwidthProfilePerClassOfServiceName"
            )
            issues.append(
                Issue(
                    f"{pointer}/product/productConfiguration/{profile}",
                    "the connection needs an ingress bandwidth profile with a CIR above 0",
                    "missingProperty",
                )
            )
            continue
        offering = item.product.productOffering
        if offering is not None and offering_for(configuration["@type"], irp) != offering.id:
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
            plan.partner = partner_sites.get(item.id) if plan.schema == SUBSCRIBER_UNI else None
            if plan.partner is None:
                plan.site_id = _install_site(
                    session, item.product.place or [], f"{pointer}/product/place", issues
                )
        elif plan.schema in EVC_TYPES:
            plan.unis = _connected_unis(session, party, item, schemas, pointer, issues, SUBSCRIBER_UNI)
        elif plan.schema == ACCESS_ELINE_OVC:
            plan.unis = _connected_unis(session, party, item, schemas, pointer, issues, OPERATOR_UNI)
            plan.ennis = _connected_ennis(session, party, item, pointer, issues)
            if plan.ennis and isinstance(model, AccessElineOvcConfiguration):
                configuration_path = f"{pointer}/product/productConfiguration"
                svlan.check_requested(session, party, model, plan.ennis[0], configuration_path, taken, issues)
        plans.append(plan)
    _plan_partner_shares(plans, {item.id: i for i, item in enumerate(order.productOrderItem)}, issues)
    first_adds = order.productOrderItem[0].action == "add"
    for index, item in enumerate(order.productOrderItem):
        if (item.action == "add") != first_adds:
            issues.append(
                Issue(
                    f"/productOrderItem/{index}/action",
                    "this seller takes new products (add) and changes (modify, delete) in separate orders",
                )
            )
    return Plan(plans, issues)


def _change(
    session: Session,
    party: str,
    item: Any,
    pointer: str,
    deleting: set[str],
    changing: set[str],
    issues: list[Issue],
) -> ItemPlan | None:
    """A modify or delete item names an active product of the buyer (``product.id``, MEF 55.0.1 §10.3).

    Modify: an EVC's new ``productConfiguration`` of the same type, differing only in its bandwidth
    profiles (what the network can change in service). Delete: any product, but a UNI only when every EVC
    on it is deleted too, and an off-net EPL only with its UNI at the partner's site (the partner's share
    of both is one delete order: lso.bus.partners.offnet_order).
    """
    found = len(issues)
    product_id = item.product.id
    product = PRODUCTS.find(session, product_id, party) if product_id else None
    if product_id is None:
        issues.append(
            Issue(f"{pointer}/product/id", f"{item.action} names your product by id", "missingProperty")
        )
    elif product is None or not _realized(session, product):
        issues.append(
            Issue(
                f"{pointer}/product/id", f"no product {product_id!r} in your inventory", "referenceNotFound"
            )
        )
    elif product_id in changing:
        issues.append(Issue(f"{pointer}/product/id", f"product {product_id!r} is changed by two items"))
    elif product.get("status") != "active":
        issues.append(Issue(f"{pointer}/product/id", f"product {product_id!r} is {product.get('status')}"))
    for name in ("place", "productRelationship"):
        if getattr(item.product, name) is not None:
            issues.append(
                Issue(
                    f"{pointer}/product/{name}",
                    f"{name} cannot be changed by {item.action}",
                    "unexpectedProperty",
                )
            )
    if len(issues) > found or product is None or product_id is None:
        return None
    changing.add(product_id)
    schema = product["productConfiguration"]["@type"]
    if item.action == "modify":
        _check_modification(item, product, f"{pointer}/product/productConfiguration", issues)
    elif schema in UNI_TYPES:
        users = [evc for evc in _evcs_on(session, party, product_id) if evc not in deleting]
        if users:
            issues.append(
                Issue(
                    f"{pointer}/product/id",
                    f"UNI {product_id!r} still carries EVC product {users[0]!r}: delete that EVC too",
                )
            )
    partner = offnet_order.partner_of(session, product)
    if item.action == "delete" and partner and partner.get("uniProductId") not in deleting | {None}:
        issues.append(
            Issue(
                f"{pointer}/product/id",
                f"an off-net EPL is disconnected with its UNI at the partner's site: delete UNI "
                f"{partner['uniProductId']!r} in this order too",
            )
        )
    if len(issues) > found:
        return None
    return ItemPlan(item.id, schema, action=item.action, product_id=product_id, partner=partner)


def _realized(session: Session, product: Document) -> bool:
    """In service: realised by a service of ours or, at a partner's site, by the partner's product."""
    found = REALIZATIONS.find(session, product["id"]) or offnet_order.partner_of(session, product)
    return found is not None


def _check_modification(item: Any, product: Document, pointer: str, issues: list[Issue]) -> None:
    configuration = item.product.productConfiguration
    current = product["productConfiguration"]
    if configuration is None:
        issues.append(
            Issue(pointer, "productConfiguration is required when the action is modify", "missingProperty")
        )
        return
    if current["@type"] not in CONNECTION_TYPES:
        issues.append(
            Issue(
                f"{pointer}/@type", "only an EVC's or OVC's configuration (bandwidth profile) can be modified"
            )
        )
        return
    if configuration.get("@type") != current["@type"]:
        issues.append(
            Issue(f"{pointer}/@type", f"the product is a {current['@type']}; its type cannot change")
        )
        return
    try:
        new = validate_configuration(configuration, pointer)
    except MefError as error:
        issues.extend(error.issues)
        return
    old = validate_configuration(current, pointer)
    kind = EvcConfiguration if isinstance(old, EvcConfiguration) else AccessElineOvcConfiguration
    assert isinstance(new, kind) and isinstance(old, kind)
    if new.ingress_cir_mbps() <= 0:
        profile = (
            "evcEndPointA/ingressBandwidthProfilePerClassofServiceName"
            if kind is EvcConfiguration
            else "uniEp/ingressBandwidthProfilePerClassOfServiceName"
        )
        issues.append(
            Issue(
                f"{pointer}/{profile}",
                "the connection needs an ingress bandwidth profile with a CIR above 0",
                "missingProperty",
            )
        )
    for name in _FIXED_IN_SERVICE[kind]:
        if getattr(new, name) != getattr(old, name):
            issues.append(
                Issue(f"{pointer}/{name}", f"{name} cannot be modified: only the bandwidth profiles can")
            )


def _evcs_on(session: Session, party: str, uni_product_id: str) -> list[str]:
    """The EVC products of ``party`` not yet terminated that connect to the UNI product."""
    products, _ = PRODUCTS.list(session, party=party, filters={}, offset=0, limit=1_000_000)
    return [
        p["id"]
        for p in products
        if p.get("status") != "terminated"
        and p["productConfiguration"]["@type"] in CONNECTION_TYPES
        and any(r["id"] == uni_product_id for r in p.get("productRelationship", []))
    ]


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


def _plan_partner_shares(plans: list[ItemPlan], index: dict[str, int], issues: list[Issue]) -> None:
    """An EVC on one partner UNI runs on our network to our side of the partner's ENNI."""
    theirs = {p.item_id: p.partner for p in plans if p.is_uni and p.partner and p.action == "add"}
    for plan in plans:
        off_net = [uni.item_id for uni in plan.unis if uni.item_id in theirs]
        if plan.schema not in EVC_TYPES or not off_net:
            continue
        partner = theirs[off_net[0]] or {}
        if len(off_net) > 1 or not partner.get("enni"):
            pointer = f"/productOrderItem/{index[plan.item_id]}/productOrderItemRelationship"
            issues.append(Issue(pointer, "one end of an EVC must be on-net, the other at a partner's site"))
            continue
        plan.partner = {**partner, "uniItemId": off_net[0]}
        plan.ennis = [partner["enni"]]
    served = {p.partner["uniItemId"] for p in plans if p.partner and not p.is_uni and p.action == "add"}
    for item_id in theirs.keys() - served:
        pointer = f"/productOrderItem/{index[item_id]}/product/place"
        issues.append(Issue(pointer, "a UNI at a partner's site is offered only as the far end of an EPL"))


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


def _connected_ennis(session: Session, party: str, item: Any, pointer: str, issues: list[Issue]) -> list[str]:
    """The one ENNI (a product in the buyer's inventory) an Access E-Line OVC reaches the buyer through."""
    ennis = []
    for index, relation in enumerate(item.product.productRelationship or []):
        if relation.relationshipType != CONNECTS_TO_ENNI:
            continue
        path = f"{pointer}/product/productRelationship/{index}"
        product = PRODUCTS.find(session, relation.id, party)
        if product is None or product.get("productConfiguration", {}).get("@type") != ENNI:
            issues.append(
                Issue(f"{path}/id", f"no ENNI product {relation.id!r} in your inventory", "referenceNotFound")
            )
        elif product.get("status") != "active":
            issues.append(Issue(f"{path}/id", f"ENNI {relation.id!r} is {product.get('status')}, not active"))
        else:
            ennis.append(relation.id)
    if len(ennis) != 1 and not any(i.property_path.startswith(pointer + "/") for i in issues):
        issues.append(
            Issue(
                f"{pointer}/product/productRelationship",
                f"an Access E-Line OVC connects exactly one ENNI ({CONNECTS_TO_ENNI}); {len(ennis)} given",
                "missingProperty",
            )
        )
    return ennis


def _connected_unis(
    session: Session,
    party: str,
    item: Any,
    schemas: dict[str, str | None],
    pointer: str,
    issues: list[Issue],
    uni_type: str,
) -> list[UniRef]:
    """The UNIs an EVC (two subscriber UNIs) or an OVC (one operator UNI) connects to."""
    wanted = EVC_END_POINTS if uni_type == SUBSCRIBER_UNI else 1
    kind = "subscriber UNI" if uni_type == SUBSCRIBER_UNI else "operator UNI"
    unis: list[UniRef] = []
    for index, relation in enumerate(item.productOrderItemRelationship or []):
        path = f"{pointer}/productOrderItemRelationship/{index}"
        if relation.relationshipType != CONNECTS_TO_UNI:
            issues.append(Issue(f"{path}/relationshipType", f"an EVC relates to UNIs by {CONNECTS_TO_UNI}"))
        elif relation.id not in schemas or relation.id == item.id:
            issues.append(
                Issue(f"{path}/id", f"no other item {relation.id!r} in this order", "referenceNotFound")
            )
        elif schemas[relation.id] != uni_type:
            issues.append(Issue(f"{path}/id", f"item {relation.id!r} is not a {kind}"))
        else:
            unis.append(UniRef(item_id=relation.id))
    for index, relation in enumerate(item.product.productRelationship or []):
        path = f"{pointer}/product/productRelationship/{index}"
        product = PRODUCTS.find(session, relation.id, party)
        if relation.relationshipType == CONNECTS_TO_ENNI and uni_type == OPERATOR_UNI:
            continue  # see _connected_ennis
        if relation.relationshipType != CONNECTS_TO_UNI:
            issues.append(Issue(f"{path}/relationshipType", f"an EVC relates to UNIs by {CONNECTS_TO_UNI}"))
        elif product is None:
            issues.append(
                Issue(f"{path}/id", f"no product {relation.id!r} in your inventory", "referenceNotFound")
            )
        elif product.get("productConfiguration", {}).get("@type") != uni_type:
            issues.append(Issue(f"{path}/id", f"product {relation.id!r} is not a {kind}"))
        elif product.get("status") != "active":
            issues.append(Issue(f"{path}/id", f"UNI {relation.id!r} is {product.get('status')}, not active"))
        else:
            unis.append(UniRef(product_id=relation.id))
    if len(unis) != wanted and not any(i.property_path.startswith(pointer + "/") for i in issues):
        issues.append(
            Issue(
                f"{pointer}/productOrderItemRelationship",
                f"connects exactly {wanted} {kind}(s) ({CONNECTS_TO_UNI}); {len(unis)} given",
                "missingProperty",
            )
        )
    return unis
