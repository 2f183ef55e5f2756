"""CANTATA Product Catalog v4: the categories, offerings (EPL, EVPL, UNI) and specifications a buyer
browses (MEF 55.0.1 §10.2 step 1). Specifications point at the ``@type`` URN of the configuration the
project validates; offerings carry the price rules of :mod:`lso.bus.pricing` for each term."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from lso.bus import pricing
from lso.bus.products import EPL_EVC, EVPL_EVC, SUBSCRIBER_UNI
from lso.entity import EntityContext
from lso.mef.dates import now_iso
from lso.mef.http import MefResponse
from lso.mef.notifications import NotificationApi, hub_router
from lso.mef.paging import page_of, page_response
from lso.mef.store import Document, Store
from lso.security.tokens import CallerDep

PREFIX = "/mefApi/cantata/productCatalog/v4"
NOTIFICATIONS = NotificationApi("cantata", "productCatalogNotification", "v4")

categories = Store("bus.category", "category")
offerings = Store("bus.productOffering", "productOffering")
specifications = Store("bus.productSpecification", "productSpecification")

CATEGORY = "carrier-ethernet"
# offering id → (specification id, configuration URN, name, description)
OFFERINGS = {
    "lso-epl": (
        "epl-evc",
        EPL_EVC,
        "Ethernet Private Line",
        "Point-to-point, port-based Ethernet (MEF 6.3 EPL)",
    ),
    "lso-evpl": (
        "evpl-evc",
        EVPL_EVC,
        "Ethernet Virtual Private Line",
        "Point-to-point Ethernet multiplexed by C-VLAN at the UNI (MEF 6.3 EVPL)",
    ),
    "lso-uni": (
        "carrier-ethernet-subscriber-uni",
        SUBSCRIBER_UNI,
        "Carrier Ethernet Subscriber UNI",
        "An Ethernet port at one of our sites (MEF 10.4 UNI)",
    ),
}


def offering_for(product_type: str) -> str | None:
    """The offering id that sells configurations of ``product_type``."""
    return next((oid for oid, (_, urn, _, _) in OFFERINGS.items() if urn == product_type), None)


def router(ctx: EntityContext) -> APIRouter:
    api = APIRouter(prefix=PREFIX, tags=["CANTATA productCatalog"])
    url = ctx.settings.base_url

    @api.get("/category")
    def list_category(request: Request, _caller: CallerDep) -> MefResponse:
        return _listing(ctx, request, categories, {"parentCategory.id", "lastUpdate"}, None)

    @api.get("/category/{category_id}")
    def retrieve_category(category_id: str, _caller: CallerDep) -> MefResponse:
        with ctx.db.read() as session:
            return MefResponse(_served(categories.get(session, category_id), url, "category"))

    @api.get("/productOffering")
    def list_product_offering(request: Request, _caller: CallerDep) -> MefResponse:
        allowed = {
            "name", "lastUpdate", "lifecycleStatus", "agreement", "channel", "marketSegment",
            "region.countryCode", "isBundle", "isSellable", "category.id", "productSpecification.id",
        }  # fmt: skip
        find = ("id", "href", "name", "lastUpdate", "lifecycleStatus", "isBundle", "isSellable", "channel",
                "marketSegment", "region", "category", "productSpecification")  # fmt: skip
        return _listing(ctx, request, offerings, allowed, find)

    @api.get("/productOffering/{offering_id}")
    def retrieve_product_offering(offering_id: str, _caller: CallerDep) -> MefResponse:
        with ctx.db.read() as session:
            return MefResponse(_served(offerings.get(session, offering_id), url, "productOffering"))

    @api.get("/productSpecification")
    def list_product_specification(request: Request, _caller: CallerDep) -> MefResponse:
        allowed = {"name", "lifecycleStatus", "lastUpdate", "agreement"}
        find = ("id", "href", "name", "lastUpdate", "lifecycleStatus")
        return _listing(ctx, request, specifications, allowed, find)

    @api.get("/productSpecification/{specification_id}")
    def retrieve_product_specification(specification_id: str, _caller: CallerDep) -> MefResponse:
        with ctx.db.read() as session:
            doc = specifications.get(session, specification_id)
        return MefResponse(_served(doc, url, "productSpecification"))

    api.include_router(hub_router(NOTIFICATIONS, "CANTATA productCatalog"))
    return api


def _listing(
    ctx: EntityContext, request: Request, store: Store, allowed: set[str], fields: tuple[str, ...] | None
) -> MefResponse:
    """A filtered page of a (small) catalog collection; ``fields`` trims items to the ``_Find`` shape."""
    page = page_of(request, allowed)
    with ctx.db.session() as session:
        docs = [d for d in store.all(session) if all(_matches(d, k, v) for k, v in page.filters.items())]
    served = [_served(d, ctx.settings.base_url, store.label) for d in docs]
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


def _served(doc: Document, base_url: str, collection: str) -> Document:
    """Absolute ``href``s on the resource and the references it holds, for this server's base URL."""
    served = {**doc, "href": f"{base_url}{PREFIX}/{collection}/{doc['id']}"}
    for name, target in (("category", "category"), ("productOffering", "productOffering")):
        if isinstance(doc.get(name), list):
            served[name] = [{**r, "href": f"{base_url}{PREFIX}/{target}/{r['id']}"} for r in doc[name]]
    if isinstance(doc.get("productSpecification"), dict):
        spec = doc["productSpecification"]
        served["productSpecification"] = {
            **spec,
            "href": f"{base_url}{PREFIX}/productSpecification/{spec['id']}",
        }
    return served


def seed_demo(session: Session, ctx: EntityContext) -> None:
    """The demo catalog; a document is rewritten (and its ``lastUpdate`` moved) only when it changed."""
    _upsert(session, categories, _category())
    for offering_id, (spec_id, urn, name, description) in OFFERINGS.items():
        _upsert(session, specifications, _specification(spec_id, urn, name, description))
        _upsert(session, offerings, _offering(offering_id, spec_id, urn, name, description))


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


def _category() -> Document:
    return {
        "id": CATEGORY,
        "name": "Carrier Ethernet",
        "description": "MEF Carrier Ethernet services: E-Line EVCs and the UNIs they connect",
        "productOffering": [{"id": offering_id} for offering_id in OFFERINGS],
    }


def _specification(spec_id: str, urn: str, name: str, description: str) -> Document:
    return {
        "id": spec_id,
        "name": name,
        "description": description,
        "lifecycleStatus": "published",
        "sourceSchema": {"schemaLocation": urn},
    }


def _offering(offering_id: str, spec_id: str, urn: str, name: str, description: str) -> Document:
    is_evc = urn != SUBSCRIBER_UNI
    offering: Document = {
        "id": offering_id,
        "name": name,
        "description": description,
        "lifecycleStatus": "active",
        "statusTransition": [],
        "isBundle": False,
        "isSellable": True,
        "channel": ["CANTATA"],
        "marketSegment": ["enterprise"],
        "region": [{"countryCode": "GB"}],
        "category": [{"id": CATEGORY}],
        "productSpecification": {"id": spec_id},
        "productOfferingSpecificationSchema": {"schemaLocation": urn},
    }
    if is_evc:
        offering["productRelationshipConstraint"] = [
            {
                "productSpecification": "carrier-ethernet-subscriber-uni",
                "relationshipType": "CONNECTS_TO_UNI",
                "isModifiable": False,
                "minCardinality": 2,
                "maxCardinality": 2,
            }
        ]
    else:
        offering["placeRelationshipConstraint"] = [
            {
                "relationshipRole": "INSTALL_LOCATION",
                "isModifiable": False,
                "minCardinality": 1,
                "maxCardinality": 1,
            }
        ]
    return offering
