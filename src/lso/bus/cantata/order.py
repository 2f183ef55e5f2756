"""CANTATA Product Ordering Management v6 and SONATA v11 (Kylie, MEF 57.2): productOrder create/list/get
and hub.

A product order is checked in full before it is acknowledged — its shape, every configuration, the
relationships and places of its items — and is answered 422 with every problem (nothing stored) or 201
``acknowledged``; its fulfilment then runs as a durable workflow (:mod:`lso.bus.order.fulfilment`). The
optional operations this seller does not offer (patch, cancel, requested-date change, charges) answer
501 ``notImplemented``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request

from lso.bus.cantata.listing import base_name, matching_page, query_date, summary_page
from lso.bus.irp import SellerIrp
from lso.bus.order import fulfilment
from lso.bus.order.inventory import mark_changing
from lso.bus.order.model import ProductOrderCreate
from lso.bus.order.records import (
    ITEM_STATES,
    ORDER_STATES,
    ORDERS,
    order_href,
)
from lso.bus.order.structure import analyse, locate_partner_sites
from lso.entity import EntityContext
from lso.mef.body import JsonBody, parse_model
from lso.mef.dates import iso, normalise, now_iso
from lso.mef.errors import not_implemented, unprocessable
from lso.mef.http import MefResponse
from lso.mef.notifications import hub_router
from lso.mef.paging import page_of
from lso.mef.store import Document
from lso.security.tokens import CallerDep

_ORDER_FILTERS = {"state", "externalId", "projectId", "orderDate", "completionDate", "cancellationDate"}
_ITEM_FILTERS = {
    "itemRequestedCompletionDate": "requestedCompletionDate",
    "itemExpectedCompletionDate": "expectedCompletionDate",
}
_DATE_FILTERS = {"orderDate", "completionDate", "cancellationDate", *_ITEM_FILTERS}
_SUMMARY = (
    "id",
    "href",
    "externalId",
    "projectId",
    "orderDate",
    "completionDate",
    "cancellationDate",
    "state",
)
_NOT_OFFERED = {
    ("PATCH", "/productOrder/{id}"): "patchProductOrder",
    ("GET", "/cancelProductOrder"): "listCancelProductOrder",
    ("POST", "/cancelProductOrder"): "createCancelProductOrder",
    ("GET", "/cancelProductOrder/{id}"): "retrieveCancelProductOrder",
    ("GET", "/charge"): "listCharge",
    ("GET", "/charge/{id}"): "retrieveCharge",
    ("PATCH", "/charge/{id}"): "patchCharge",
    (
        "GET",
        "/modifyProductOrderItemRequestedDeliveryDate",
    ): "listModifyProductOrderItemRequestedDeliveryDate",
    (
        "POST",
        "/modifyProductOrderItemRequestedDeliveryDate",
    ): "createModifyProductOrderItemRequestedDeliveryDate",
    (
        "GET",
        "/modifyProductOrderItemRequestedDeliveryDate/{id}",
    ): "retrieveModifyProductOrderItemRequestedDeliveryDate",
}


def router(ctx: EntityContext, irp: SellerIrp) -> APIRouter:
    api = irp.router("productOrderingManagement", "productOrder")

    @api.post("/productOrder", status_code=201)
    def create_product_order(body: JsonBody, caller: CallerDep) -> MefResponse:
        request_model = parse_model(ProductOrderCreate, body)
        partner_sites = locate_partner_sites(ctx.db, request_model)  # network calls: outside the transaction
        with ctx.db.session() as session:
            plan = analyse(session, caller.party_id, request_model, irp, partner_sites)
            if plan.issues:
                raise unprocessable(*plan.issues)
            order = _acknowledged(request_model, irp)
            ORDERS.add(session, order, party=caller.party_id)
            stored_plan = plan.document(order["id"])
            fulfilment.PLANS.add(session, stored_plan, party=caller.party_id)
            mark_changing(session, stored_plan)
        fulfilment.start_fulfilment(order["id"])
        return MefResponse(order, status_code=201)

    @api.get("/productOrder")
    def list_product_order(request: Request, caller: CallerDep) -> MefResponse:
        page = page_of(request, _ORDER_FILTERS | set(_ITEM_FILTERS))
        filters = {
            name: query_date(name, value) if base_name(name) in _DATE_FILTERS else value
            for name, value in page.filters.items()
        }
        order_filters = {n: v for n, v in filters.items() if base_name(n) in _ORDER_FILTERS}
        item_filters = {n: v for n, v in filters.items() if base_name(n) in _ITEM_FILTERS}
        matches = _items_match(item_filters) if item_filters else None
        with ctx.db.read() as session:
            orders, total = matching_page(session, ORDERS, caller.party_id, order_filters, matches, page)
        return summary_page(orders, total, page, _SUMMARY)

    @api.get("/productOrder/{order_id}")
    def retrieve_product_order(order_id: str, caller: CallerDep) -> MefResponse:
        with ctx.db.read() as session:
            return MefResponse(ORDERS.get(session, order_id, caller.party_id))

    for (method, path), operation in _NOT_OFFERED.items():
        api.add_api_route(path, _not_offered(operation), methods=[method], tags=["not offered"])

    notifications = irp.notifications("productOrderingNotification")
    api.include_router(hub_router(notifications, irp.tag("events subscription")))
    return api


def recover(ctx: EntityContext) -> None:
    """Fulfil every order a crash left acknowledged before its workflow started (or still running)."""
    with ctx.db.read() as session:
        waiting = [
            order["id"]
            for state in ("acknowledged", "inProgress")
            for order in ORDERS.list(session, party=None, filters={"state": state}, offset=0, limit=100_000)[
                0
            ]
        ]
    for order_id in waiting:
        fulfilment.start_fulfilment(order_id)


def _acknowledged(request_model: ProductOrderCreate, irp: SellerIrp) -> Document:
    order: Document = request_model.model_dump(mode="json", by_alias=True, exclude_none=True)
    order["id"] = ORDERS.new_id()
    order["href"] = order_href(order["id"], irp)
    order["orderDate"] = now_iso()
    for item, item_model in zip(order["productOrderItem"], request_model.productOrderItem, strict=True):
        item["requestedCompletionDate"] = _utc(item_model.requestedCompletionDate)
        item["product"].pop("href", None)  # MEF: a buyer's href is ignored
        ITEM_STATES.move(item, "acknowledged")
    for note in order.get("note", []):
        note["date"] = normalise(note["date"])
    ORDER_STATES.move(order, "acknowledged")
    return order


def _utc(moment: datetime) -> str:
    return iso(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def _items_match(filters: dict[str, str]) -> Callable[[Document], bool]:
    """An order matches when one of its items satisfies every item filter."""

    def item_matches(item: Document) -> bool:
        for name, value in filters.items():
            stored = item.get(_ITEM_FILTERS[base_name(name)])
            if stored is None:
                return False
            if name.endswith(".gt") and not stored > value:
                return False
            if name.endswith(".lt") and not stored < value:
                return False
            if name == base_name(name) and stored != value:
                return False
        return True

    return lambda order: any(item_matches(item) for item in order["productOrderItem"])


def _not_offered(operation: str) -> Callable[..., Any]:
    def answer(caller: CallerDep) -> MefResponse:
        raise not_implemented(operation)

    answer.__name__ = operation
    return answer
