"""Service Ordering Management (Kylie): LEGATO v6, where BUS asks SOF to fulfil services (§10.2 step 7),
and INTERLUDE v1, where a partner provider's SOF orders its share directly (step 9b-a) — one
implementation mounted per IRP with its access rule. An INTERLUDE caller is a buyer provider and sees only
its own orders; its orders' events go to its INTERLUDE hubs and, over LEGATO, to this domain's BUS.

Only the shape of ``ServiceOrder_Create`` is checked here (a MEF 400/422 at once); the service
configurations are validated by the activation workflow after acknowledgement, which moves a bad order to
``rejected`` with a ``terminationError`` rather than answering an HTTP error.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from lso.mef import runtime
from lso.mef.body import JsonBody, parse_model
from lso.mef.dates import iso, now_iso
from lso.mef.errors import Issue, MefError, unprocessable
from lso.mef.http import MefResponse
from lso.mef.notifications import NotificationApi, dispatch, hub_router
from lso.mef.paging import list_page
from lso.mef.store import Document
from lso.security.tokens import Caller, CallerDep, InternalDep
from lso.sof import change, interlude_client, records

_NAMESPACE = uuid.UUID("3a1d9a0c-51e2-4c4e-8d0b-6f7f0f4b9c21")
_FILTERS = {
    "state",
    "externalId",
    "orderDate",
    "completionDate",
    "expectedCompletionDate",
    "startDate",
}


class _ServiceValue(BaseModel):
    model_config = ConfigDict(extra="allow")
    serviceConfiguration: dict[str, Any] | None = None


class _ServiceOrderItemCreate(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str = Field(min_length=1)
    action: Literal["add", "modify", "delete"]
    service: _ServiceValue


class _Note(BaseModel):
    """Kylie ``Note_BusSof``: kept on the order and answered back, so it must be well formed."""

    model_config = ConfigDict(extra="allow")
    author: str
    date: datetime
    id: str
    source: Literal["bus", "sof"]
    text: str


class _RelatedContactInformation(BaseModel):
    model_config = ConfigDict(extra="allow")
    emailAddress: str
    name: str
    number: str
    role: str
    organization: str | None = None


class _ServiceOrderCreate(BaseModel):
    """Kylie ``ServiceOrder_Create``: what must be there before SOF acknowledges an order, and the order
    properties SOF keeps and answers back (checked so an answer never repeats a malformed one)."""

    model_config = ConfigDict(extra="allow")
    externalId: str | None = None
    description: str | None = None
    note: list[_Note] | None = None
    relatedContactInformation: list[_RelatedContactInformation] | None = None
    # SOF fulfils each order on its own: coordinating with other orders is not offered.
    coordinatedAction: list[Any] | None = Field(default=None, max_length=0)
    orderRelationship: list[Any] | None = Field(default=None, max_length=0)
    requestedStartDate: datetime
    requestedCompletionDate: datetime
    serviceOrderItem: list[_ServiceOrderItemCreate] = Field(min_length=1)


def _internal(caller: InternalDep) -> Caller:
    return caller


def _buyer(caller: CallerDep) -> Caller:
    # A partner provider authenticates with role "buyer" (as on SONATA); a customer orders over CANTATA.
    if caller.role != "buyer":
        raise MefError(403, "INTERLUDE serves partner providers", code="accessDenied")
    return caller


@dataclass(frozen=True)
class OrderingMount:
    """Service ordering on one IRP: its base path, notification API, tag and who may call it."""

    base: str
    events: NotificationApi
    tag: str
    authorise: Callable[..., Caller]


MOUNTS = (
    OrderingMount(
        records.ORDERING_BASE, records.ORDERING_EVENTS, "LEGATO serviceOrderingManagement", _internal
    ),
    OrderingMount(
        records.INTERLUDE_ORDERING_BASE,
        records.INTERLUDE_ORDERING_EVENTS,
        "INTERLUDE serviceOrderingManagement",
        _buyer,
    ),
)


def router() -> APIRouter:
    api = APIRouter()
    for mount in MOUNTS:
        api.include_router(_mount_router(mount))
    return api


def _mount_router(mount: OrderingMount) -> APIRouter:
    api = APIRouter(prefix=mount.base, tags=[mount.tag])
    guard = Depends(mount.authorise)
    api.include_router(hub_router(mount.events, mount.tag, authorise=guard))

    @api.post("/serviceOrder", status_code=201)
    def create_service_order(body: JsonBody, caller: Caller = guard) -> MefResponse:
        parsed = parse_model(_ServiceOrderCreate, body)
        _check_item_ids(parsed)
        body = interlude_client.keep_partner_access(body)  # a partner's credentials stay out of the order
        order = _new_order(body, parsed, caller.party_id, mount.base)
        stored, delivery_ids = _store(order, caller.party_id)
        dispatch(delivery_ids)
        change.start(stored["id"])  # again for a known externalId: resumes an order a crash left behind
        return MefResponse(stored, status_code=201)

    @api.get("/serviceOrder")
    def list_service_order(request: Request, caller: Caller = guard) -> MefResponse:
        return list_page(runtime.current().db, records.ORDERS, request, caller.party_id, _FILTERS)

    @api.get("/serviceOrder/{order_id}")
    def retrieve_service_order(order_id: str, caller: Caller = guard) -> MefResponse:
        # This domain's BUS also reads the orders partners placed over INTERLUDE (it bills them).
        party = None if caller.is_internal else caller.party_id
        with runtime.current().db.read() as session:
            return MefResponse(records.ORDERS.get(session, order_id, party))

    return api


def _check_item_ids(order: _ServiceOrderCreate) -> None:
    seen: set[str] = set()
    for index, item in enumerate(order.serviceOrderItem):
        if item.id in seen:
            raise unprocessable(
                Issue(f"/serviceOrderItem/{index}/id", f"item id {item.id!r} is used twice", "invalidValue")
            )
        seen.add(item.id)


def _new_order(body: dict[str, Any], parsed: _ServiceOrderCreate, party: str, base: str) -> Document:
    # An id derived from the externalId makes a retried POST collide with the first one, even when both
    # arrive at the same time; without an externalId every POST is a new order.
    order_id = (
        str(uuid.uuid5(_NAMESPACE, f"{party}:{parsed.externalId}"))
        if parsed.externalId
        else str(uuid.uuid4())
    )
    order: Document = {
        **body,
        "id": order_id,
        "href": records.href(f"{base}/serviceOrder/{order_id}"),
        "orderDate": now_iso(),
        "requestedStartDate": iso(parsed.requestedStartDate),
        "requestedCompletionDate": iso(parsed.requestedCompletionDate),
        "serviceOrderItem": [{**item, "state": "acknowledged"} for item in body["serviceOrderItem"]],
    }
    records.ORDER_STATES.move(order, "acknowledged", history=None)
    return order


def _store(order: Document, party: str) -> tuple[Document, list[str]]:
    """Insert the order and queue ``serviceOrderCreateEvent``, or return the order already there."""
    db = runtime.current().db
    try:
        with db.session() as session:
            existing = records.ORDERS.find(session, order["id"], party)
            if existing is not None:
                return existing, []
            records.ORDERS.add(session, order, party=party)
            event = {"id": order["id"], "href": order["href"]}
            ids = records.publish_order_event(
                session, order, "serviceOrderCreateEvent", event, f"{order['id']}:create"
            )
        return order, ids
    except MefError as exc:
        if exc.status != 409:  # 409: a simultaneous retry inserted it first
            raise
    with db.session() as session:
        return records.ORDERS.get(session, order["id"], party), []
