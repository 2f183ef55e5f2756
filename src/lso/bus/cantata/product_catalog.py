"""CANTATA and SONATA Product Catalog v4: the categories, offerings and specifications a buyer browses
(MEF 55.0.1 §10.2 step 1; §10.1 for a provider on-boarding us as its partner). CANTATA sells EPL, EVPL
and the subscriber UNI; SONATA the Access E-Line OVC and the operator UNI. One catalog is stored; each
IRP shows the offerings of its ``channel`` and what they refer to. Specifications point at the ``@type``
URN of the configuration the project validates; offerings carry the price rules of
:mod:`lso.bus.pricing` for each term."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from lso.bus import pricing
from lso.bus.irp import CANTATA, SONATA, SellerIrp
from lso.bus.products import (
    ACCESS_ELINE_OVC,
    ENNI,
    EPL_EVC,
    EVPL_EVC,
    OPERATOR_UNI,
    SUBSCRIBER_UNI,
    UNI_TYPES,
)
from lso.entity import EntityContext
from lso.mef.dates import now_iso
from lso.mef.errors import not_found
from lso.mef.http import MefResponse
from lso.mef.notifications import hub_router
from lso.mef.paging import page_of, page_response
from lso.mef.store import Document, Store
from lso.security.tokens import CallerDep

categories = Store("bus.category", "category")
offerings = Store("bus.productOffering", "productOffering")
specifications = Store("bus.productSpecification", "productSpecification")


@dataclass(frozen=True)
class Offering:
    """A product offering: the specification it sells, the ``@type`` of its configuration, and the IRP
    (catalog ``channel``) and category it is sold in."""

    specification: str
    urn: str
    name: str
    description: str
    irp: SellerIrp
    category: str


CATEGORIES = {
    "carrier-ethernet": (
        "Carrier Ethernet",
        "MEF Carrier Ethernet services: E-Line EVCs and the UNIs they connect",
    ),
    "operator-ethernet": (
        "Operator Ethernet",
        "MEF 51.1 Operator Ethernet services sold to providers: Access E-Line OVCs, operator UNIs",
    ),
}
OFFERINGS = {
    "lso-epl": Offering(
        "epl-evc",
        EPL_EVC,
        "Ethernet Private Line",
        "Point-to-point, port-based Ethernet (MEF 6.3 EPL)",
        CANTATA,
        "carrier-ethernet",
    ),
    "lso-evpl": Offering(
        "evpl-evc",
        EVPL_EVC,
        "Ethernet Virtual Private Line",
        "Point-to-point Ethernet multiplexed by C-VLAN at the UNI (MEF 6.3 EVPL)",
        CANTATA,
        "carrier-ethernet",
    ),
    "lso-uni": Offering(
        "carrier-ethernet-subscriber-uni",
        SUBSCRIBER_UNI,
        "Carrier Ethernet Subscriber UNI",
        "An Ethernet port at one of our sites (MEF 10.4 UNI)",
        CANTATA,
        "carrier-ethernet",
    ),
    "lso-access-eline": Offering(
        "access-eline-ovc",
        ACCESS_ELINE_OVC,
        "Access E-Line OVC",
        "An OVC from an operator UNI at one of our sites to an ENNI with the buyer's network (MEF 51.1)",
        SONATA,
        "operator-ethernet",
    ),
    "lso-operator-uni": Offering(
        "carrier-ethernet-operator-uni",
        OPERATOR_UNI,
        "Carrier Ethernet Operator UNI",
        "An Ethernet port at one of our sites, for a provider's customer (MEF 26.2 UNI)",
        SONATA,
        "operator-ethernet",
    ),
}
ENNI_SPECIFICATION = "carrier-ethernet-enni-sp-so"
"""Not sold: the ENNIs a SONATA buyer has with us are products in its inventory of this specification."""


def offering_for(product_type: str, irp: SellerIrp) -> str | None:
    """The offering id that sells configurations of ``product_type`` on ``irp``."""
    return next((oid for oid, o in OFFERINGS.items() if o.urn == product_type and o.irp == irp), None)


def specification_for(product_type: str) -> str | None:
    if product_type == ENNI:
        return ENNI_SPECIFICATION
    return next((o.specification for o in OFFERINGS.values() if o.urn == product_type), None)


def router(ctx: EntityContext, irp: SellerIrp) -> APIRouter:
    prefix = irp.path("productCatalog")
    api = irp.router("productCatalog")
    url = ctx.settings.base_url
    visible = _visible(irp)

    def shown(store: Store, ident: str) -> Document:
        with ctx.db.read() as session:
            doc = store.get(session, ident)
        if doc["id"] not in visible[store.kind]:
            raise not_found(store.label, ident)
        return _served(doc, url, prefix, store.label)

    def listing(
        request: Request, store: Store, allowed: set[str], fields: tuple[str, ...] | None
    ) -> MefResponse:
        return _listing(ctx, request, store, allowed, fields, prefix, visible[store.kind])

    @api.get("/category")
    def list_category(request: Request, _caller: CallerDep) -> MefResponse:
        return listing(request, categories, {"parentCategory.id", "lastUpdate"}, None)

    @api.get("/category/{category_id}")
    def retrieve_category(category_id: str, _caller: CallerDep) -> MefResponse:
        return MefResponse(shown(categories, category_id))

    @api.get("/productOffering")
    def list_product_offering(request: Request, _caller: CallerDep) -> MefResponse:
        allowed = {
            "name", "lastUpdate", "lifecycleStatus", "agreement", "channel", "marketSegment",
            "region.countryCode", "isBundle", "isSellable", "category.id", "productSpecification.id",
        }  # fmt: skip
        find = ("id", "href", "name", "lastUpdate", "lifecycleStatus", "isBundle", "isSellable", "channel",
                "marketSegment", "region", "category", "productSpecification")  # fmt: skip
        return listing(request, offerings, allowed, find)

    @api.get("/productOffering/{offering_id}")
    def retrieve_product_offering(offering_id: str, _caller: CallerDep) -> MefResponse:
        return MefResponse(shown(offerings, offering_id))

    @api.get("/productSpecification")
    def list_product_specification(request: Request, _caller: CallerDep) -> MefResponse:
        allowed = {"name", "lifecycleStatus", "lastUpdate", "agreement"}
        find = ("id", "href", "name", "lastUpdate", "lifecycleStatus")
        return listing(request, specifications, allowed, find)

    @api.get("/productSpecification/{specification_id}")
    def retrieve_product_specification(specification_id: str, _caller: CallerDep) -> MefResponse:
        return MefResponse(shown(specifications, specification_id))

    notifications = irp.notifications("productCatalogNotification")
    api.include_router(hub_router(notifications, irp.tag("productCatalog")))
    return api


def _visible(irp: SellerIrp) -> dict[str, set[str]]:
    """Per store kind, the ids shown on ``irp``: its offerings, their specifications and categories."""
    sold = {oid: o for oid, o in OFFERINGS.items() if o.irp == irp}
    specs = {o.specification for o in sold.values()}
    if irp == SONATA:
        specs.add(ENNI_SPECIFICATION)  # what a buyer's ENNI products in inventory conform to
    return {
        offerings.kind: set(sold),
        specifications.kind: specs,
        categories.kind: {o.category for o in sold.values()},
    }


def _listing(
    ctx: EntityContext,
    request: Request,
    store: Store,
    allowed: set[str],
    fields: tuple[str, ...] | None,
    prefix: str,
    visible: set[str],
) -> MefResponse:
    """A filtered page of a (small) catalog collection; ``fields`` trims items to the ``_Find`` shape."""
    page = page_of(request, allowed)
    with ctx.db.session() as session:
        docs = [
            d
            for d in store.all(session)
            if d["id"] in visible and all(_matches(d, k, v) for k, v in page.filters.items())
        ]
    served = [_served(d, ctx.settings.base_url, prefix, store.label) for d in docs]
    if fields:
        served = [{k: v for k, v in d.items() if k in fields} for d in served]
    return page_response(served[page.offset : page.offset + page.limit], len(served), page)


def _matches(doc: Document, name: str, wanted: str) -> bool:
    """MEF list filters over the document: dotted paths descend into objects and any element of arrays;
    ``.gt``/``.lt`` compare date-times (stored in one fixed format, so as text)."""
    path, operator = (name[:-3], name[-2:]) if name.endswith((".gt", ".lt")) else (name, "eq")
    values = _values(doc, path.split("."))
    if operator == "gt":
        return any(str(v) > wanted for v in values)
    if operator == "lt":
        return any(str(v) < wanted for v in values)
    return any((str(v).lower() if isinstance(v, bool) else str(v)) == wanted for v in values)


def _values(node: Any, path: list[str]) -> list[Any]:
    if isinstance(node, list):
        return [v for item in node for v in _values(item, path)]
    if not path:
        return [node]
    if not isinstance(node, dict) or path[0] not in node:
        return []
    return _values(node[path[0]], path[1:])


def _served(doc: Document, base_url: str, prefix: str, collection: str) -> Document:
    """Absolute ``href``s on the resource and the references it holds, for this server's base URL."""
    served = {**doc, "href": f"{base_url}{prefix}/{collection}/{doc['id']}"}
    for name, target in (("category", "category"), ("productOffering", "productOffering")):
        if isinstance(doc.get(name), list):
            served[name] = [{**r, "href": f"{base_url}{prefix}/{target}/{r['id']}"} for r in doc[name]]
    if isinstance(doc.get("productSpecification"), dict):
        spec = doc["productSpecification"]
        served["productSpecification"] = {
            **spec,
            "href": f"{base_url}{prefix}/productSpecification/{spec['id']}",
        }
    return served


def seed_demo(session: Session, ctx: EntityContext) -> None:
    """The demo catalog; a document is rewritten (and its ``lastUpdate`` moved) only when it changed."""
    for category_id in CATEGORIES:
        _upsert(session, categories, _category(category_id))
    for offering_id, offering in OFFERINGS.items():
        _upsert(session, specifications, _specification(offering))
        _upsert(session, offerings, _offering(offering_id, offering))
    enni = Offering(
        ENNI_SPECIFICATION,
        ENNI,
        "Carrier Ethernet ENNI (SP/SO)",
        "An ENNI between the buyer's network and ours, that Access E-Line OVCs connect to (MEF 26.2)",
        SONATA,
        "operator-ethernet",
    )
    _upsert(session, specifications, _specification(enni))


def _upsert(session: Session, store: Store, doc: Document) -> None:
    stamp = now_iso()
    stored = store.find(session, doc["id"])
    if stored is None:
        store.add(session, _stamped(doc, stamp))
    elif _unstamped(stored) != _unstamped(_stamped(doc, stamp)):
        store.put(session, _stamped(doc, stamp))


def _stamped(doc: Document, stamp: str) -> Document:
    stamped = {**doc, "lastUpdate": stamp}
    if "productOfferingSpecificationSchema" in doc:
        product_type = doc["productOfferingSpecificationSchema"]["schemaLocation"]
        stamped["productOfferingTerm"] = pricing.offering_terms(product_type, stamp)
    if "statusTransition" in doc:
        stamped["statusTransition"] = [{"transitionDate": stamp, "lifecycleStatus": doc["lifecycleStatus"]}]
    return stamped


def _unstamped(doc: Any) -> Any:
    """``doc`` without its dates, to tell a real change from a restart."""
    if isinstance(doc, dict):
        dates = {"lastUpdate", "transitionDate", "startDateTime"}
        return {k: _unstamped(v) for k, v in doc.items() if k not in dates}
    if isinstance(doc, list):
        return [_unstamped(v) for v in doc]
    return doc


def _category(category_id: str) -> Document:
    name, description = CATEGORIES[category_id]
    return {
        "id": category_id,
        "name": name,
        "description": description,
        "productOffering": [{"id": oid} for oid, o in OFFERINGS.items() if o.category == category_id],
    }


def _specification(offering: Offering) -> Document:
    return {
        "id": offering.specification,
        "name": offering.name,
        "description": offering.description,
        "lifecycleStatus": "published",
        "sourceSchema": {"schemaLocation": offering.urn},
    }


def _offering(offering_id: str, offering: Offering) -> Document:
    doc: Document = {
        "id": offering_id,
        "name": offering.name,
        "description": offering.description,
        "lifecycleStatus": "active",
        "statusTransition": [],
        "isBundle": False,
        "isSellable": True,
        "channel": [offering.irp.channel],
        "marketSegment": ["enterprise" if offering.irp == CANTATA else "wholesale"],
        "region": [{"countryCode": "GB"}],
        "category": [{"id": offering.category}],
        "productSpecification": {"id": offering.specification},
        "productOfferingSpecificationSchema": {"schemaLocation": offering.urn},
    }
    doc.update(_constraints(offering))
    return doc


def _constraints(offering: Offering) -> Document:
    """How a product of ``offering`` relates to others: an EVC to two UNIs, an OVC to a UNI and an ENNI
    (MEF 55.0.1 §10.2: ``CONNECTS_TO_UNI`` / ``CONNECTS_TO_ENNI``), a UNI to its install location."""

    def relation(specification: str, kind: str, count: int) -> Document:
        return {
            "productSpecification": specification,
            "relationshipType": kind,
            "isModifiable": False,
            "minCardinality": count,
            "maxCardinality": count,
        }

    if offering.urn == ACCESS_ELINE_OVC:
        return {
            "productRelationshipConstraint": [
                relation("carrier-ethernet-operator-uni", "CONNECTS_TO_UNI", 1),
                relation(ENNI_SPECIFICATION, "CONNECTS_TO_ENNI", 1),
            ]
        }
    if offering.urn not in UNI_TYPES:
        return {
            "productRelationshipConstraint": [
                relation("carrier-ethernet-subscriber-uni", "CONNECTS_TO_UNI", 2)
            ]
        }
    return {
        "placeRelationshipConstraint": [
            {
                "relationshipRole": "INSTALL_LOCATION",
                "isModifiable": False,
                "minCardinality": 1,
                "maxCardinality": 1,
            }
        ]
    }
