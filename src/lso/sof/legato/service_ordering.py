"""Service Ordering Management (Kylie): LEGATO v6, where BUS asks SOF to fulfil services (§10.2 step 7),
and INTERLUDE v1, where a partner provider's SOF orders its share directly (step 9b-a) — one
implementation mounted per IRP with its access rule. An INTERLUDE caller is a buyer provider and sees only
its own orders; its orders' events go to its INTERLUDE hubs and, over LEGATO, to this domain's BUS.

``ServiceOrder_Create`` is checked here (a MEF 400/422 at once) and SOF keeps only what it checked
(:mod:`lso.sof.legato.service_order_model`); the service configurations are validated by the activation
workflow after acknowledgement, which moves a bad order to ``rejected`` with a ``terminationError``
rather than answering an HTTP error.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import APIRouter, Depends, Request

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
from lso.sof.legato.service_order_model import LegatoServiceOrderCreate, ServiceOrderCreate

_NAMESPACE = uuid.UUID("3a1d9a0c-51e2-4c4e-8d0b-6f7f0f4b9c21")
_FILTERS = {
    "state",
    "externalId",
    "orderDate",
    "completionDate",
    "expectedCompletionDate",
    "startDate",
}


async def _internal(caller: InternalDep) -> Caller:
    return caller


async def _buyer(caller: CallerDep) -> Caller:
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
    authorise: Callable[..., Awaitable[Caller]]
    model: type[ServiceOrderCreate]


MOUNTS = (
    OrderingMount(
        records.ORDERING_BASE,
        records.ORDERING_EVENTS,
        "LEGATO serviceOrderingManagement",
        _internal,
        LegatoServiceOrderCreate,
    ),
    OrderingMount(
        records.INTERLUDE_ORDERING_BASE,
        records.INTERLUDE_ORDERING_EVENTS,
        "INTERLUDE serviceOrderingManagement",
        _buyer,
        ServiceOrderCreate,
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
        parsed = parse_model(mount.model, body)
        _check_item_ids(parsed)
        # Only this domain's BUS names partner shares; their credentials stay out of the order.
        kept = interlude_client.keep_partner_access(parsed.kept())
        order = _new_order(kept, parsed, caller.party_id, mount.base)
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


def _check_item_ids(order: ServiceOrderCreate) -> None:
    seen: set[str] = set()
    for index, item in enumerate(order.serviceOrderItem):
        if item.id in seen:
            raise unprocessable(
                Issue(f"/serviceOrderItem/{index}/id", f"item id {item.id!r} is used twice", "invalidValue")
            )
        seen.add(item.id)


def _new_order(body: Document, parsed: ServiceOrderCreate, party: str, base: str) -> Document:
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
