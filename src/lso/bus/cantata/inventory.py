"""CANTATA Product Inventory v2 and SONATA v8 (Kylie): the buyer's products, list with filters and get.

Products are created by completed product orders (:mod:`lso.bus.order.inventory`); a buyer sees only its
own. Filters on arrays (places, relationships, order items) are matched on the documents.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request

from lso.bus import places
from lso.bus.cantata.listing import base_name, matching_page, query_date, summary_page
from lso.bus.irp import SellerIrp
from lso.bus.order.records import PRODUCTS
from lso.entity import EntityContext
from lso.mef.http import MefResponse
from lso.mef.paging import page_of
from lso.mef.store import Document
from lso.security.tokens import CallerDep

# Query parameter → property path of the stored product (filtered in the database).
_SCALAR_FILTERS = {
    "status": "status",
    "productSpecificationId": "productSpecification.id",
    "productOfferingId": "productOffering.id",
    "externalId": "externalId",
    "billingAccountId": "billingAccount.id",
    "startDate": "startDate",
    "lastUpdateDate": "lastUpdateDate",
}
_ARRAY_FILTERS = {"geographicAddressId", "geographicSiteId", "relatedProductId", "productOrderId"}
_DATE_FILTERS = {"startDate", "lastUpdateDate"}
_SUMMARY = (
    "id",
    "href",
    "status",
    "startDate",
    "lastUpdateDate",
    "externalId",
    "productSpecification",
    "productOffering",
    "place",
    "productRelationship",
    "billingAccount",
    "productOrderItem",
)


def router(ctx: EntityContext, irp: SellerIrp) -> APIRouter:
    api = irp.router("productInventory")

    @api.get("/product")
    def list_product(request: Request, caller: CallerDep) -> MefResponse:
        page = page_of(request, set(_SCALAR_FILTERS) | _ARRAY_FILTERS)
        scalar = {}
        array = {}
        for name, value in page.filters.items():
            base = base_name(name)
            if base in _ARRAY_FILTERS:
                array[base] = value
            else:
                scalar[_SCALAR_FILTERS[base] + name[len(base) :]] = (
                    query_date(name, value) if base in _DATE_FILTERS else value
                )
        with ctx.db.read() as session:
            if "geographicAddressId" in array:
                # Products are placed at the seller's sites; an address filter selects the site at it.
                site = places.site_of_address(session, array.pop("geographicAddressId"))
                array["geographicSiteId"] = site["id"] if site else ""
            matches = _matches(array) if array else None
            products, total = matching_page(session, PRODUCTS, caller.party_id, scalar, matches, page)
        return summary_page(products, total, page, _SUMMARY)

    @api.get("/product/{product_id}")
    def retrieve_product(product_id: str, caller: CallerDep) -> MefResponse:
        with ctx.db.read() as session:
            return MefResponse(PRODUCTS.get(session, product_id, caller.party_id))

    return api


def _matches(filters: dict[str, str]) -> Callable[[Document], bool]:
    def keys(product: Document, name: str) -> set[str]:
        if name == "geographicSiteId":
            return {p["place"]["id"] for p in product.get("place", [])}
        if name == "relatedProductId":
            return {r["id"] for r in product.get("productRelationship", [])}
        return {ref["productOrderId"] for ref in product.get("productOrderItem", [])}

    return lambda product: all(value in keys(product, name) for name, value in filters.items())
