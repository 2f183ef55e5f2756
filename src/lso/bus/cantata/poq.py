"""CANTATA and SONATA Product Offering Qualification Management v8 (MEF 55.0.1 §10.2 steps 2-3c, 3d).

A buyer asks whether we can deliver EPL/EVPL EVCs (CANTATA) or Access E-Line OVCs (SONATA) and UNIs at
given places. An immediate request
(``instantSyncQualification``) is answered ``done`` in the 201 itself; a deferred one is ``acknowledged``
and a DBOS workflow takes it through ``inProgress`` to ``done``, notifying the buyer's hubs of every
POQ and item state change. The answer per item comes from :mod:`lso.bus.serviceability` (SOF's
feasibility check over LEGATO).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dbos import DBOS, SetWorkflowID
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from lso.bus import context, serviceability
from lso.bus.cantata.listing import matching_page, summary_page
from lso.bus.irp import SellerIrp, named
from lso.bus.legato_client import LegatoClient
from lso.bus.serviceability import Assessment, PreorderItem
from lso.entity import EntityContext
from lso.mef import runtime
from lso.mef.body import JsonBody, parse_model
from lso.mef.dates import iso, later, now_iso
from lso.mef.http import MefResponse
from lso.mef.notifications import dispatch, hub_router, publish
from lso.mef.paging import page_of
from lso.mef.statemachine import StateMachine
from lso.mef.store import Document, Store
from lso.security.tokens import CallerDep

ITEMS = "productOfferingQualificationItem"
GUARANTEED_DAYS = 30
SELLER_CONTACT = {
    "role": "sellerContactInformation",
    "name": "Pre-sales desk",
    "emailAddress": "presales@lso.example",
    "number": "+44 20 7946 0000",
}

poqs = Store("bus.productOfferingQualification", "productOfferingQualification")
POQ = StateMachine(
    "productOfferingQualification",
    {
        "acknowledged": ["inProgress", "rejected", "terminatedWithError"],
        "inProgress": ["done", "terminatedWithError"],
    },
)
POQ_ITEM = StateMachine(
    "productOfferingQualificationItem",
    {
        "acknowledged": ["inProgress", "rejected", "terminatedWithError", "done.abandoned"],
        "inProgress": ["done", "terminatedWithError", "done.abandoned"],
    },
)


class _Contact(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str
    name: str
    emailAddress: str
    number: str


class PoqCreate(BaseModel):
    model_config = ConfigDict(extra="allow")
    instantSyncQualification: bool
    provideAlternative: bool
    relatedContactInformation: list[_Contact] = Field(min_length=1)
    productOfferingQualificationItem: list[dict[str, Any]] = Field(min_length=1)
    projectId: str | None = None
    externalId: str | None = None
    requestedPOQCompletionDate: datetime | None = None


def router(ctx: EntityContext, irp: SellerIrp) -> APIRouter:
    api = irp.router("productOfferingQualification", "productOfferingQualificationManagement")

    @api.post("/productOfferingQualification", status_code=201)
    def create_product_offering_qualification(body: JsonBody, caller: CallerDep) -> MefResponse:
        create = parse_model(PoqCreate, body)
        items = serviceability.parse_items(body[ITEMS], ITEMS, "qualificationItemRelationship", irp)
        doc = _acknowledged(body, create)
        if create.instantSyncQualification:
            legato = LegatoClient(ctx.client("sof"))
            found = serviceability.assess(ctx.db.session, legato, items, caller.party_id)
            _answer_immediately(doc, found)
        else:
            doc["expectedPOQCompletionDate"] = later(hours=1)
        with ctx.db.session() as session:
            poqs.add(session, doc, party=caller.party_id)
        if not create.instantSyncQualification:
            with SetWorkflowID(f"poq:{doc['id']}"):
                DBOS.start_workflow(qualify, doc["id"], irp.name)
        return MefResponse(_served(doc, ctx.settings.base_url, irp), status_code=201)

    @api.get("/productOfferingQualification")
    def list_product_offering_qualification(request: Request, caller: CallerDep) -> MefResponse:
        filters = {"state", "creationDate", "requestedPOQCompletionDate", "externalId", "projectId"}
        page = page_of(request, filters)
        with ctx.db.read() as session:
            docs, total = matching_page(session, poqs, caller.party_id, page.filters, None, page)
        served = [_served(d, ctx.settings.base_url, irp) for d in docs]
        return summary_page(served, total, page, {"id", "href", *filters})

    @api.get("/productOfferingQualification/{poq_id}")
    def retrieve_product_offering_qualification(poq_id: str, caller: CallerDep) -> MefResponse:
        with ctx.db.read() as session:
            doc = poqs.get(session, poq_id, caller.party_id)
        return MefResponse(_served(doc, ctx.settings.base_url, irp))

    notifications = irp.notifications("productOfferingQualificationNotification")
    api.include_router(hub_router(notifications, irp.tag("productOfferingQualificationManagement")))
    return api


def _acknowledged(body: dict[str, Any], create: PoqCreate) -> Document:
    """The POQ as first stored: the buyer's request, seller fields added, every item ``acknowledged``."""
    doc = {k: v for k, v in body.items() if k != ITEMS}
    doc["id"] = poqs.new_id()
    doc["creationDate"] = now_iso()
    if create.requestedPOQCompletionDate is not None:
        doc["requestedPOQCompletionDate"] = iso(create.requestedPOQCompletionDate)
    doc["relatedContactInformation"] = [*body["relatedContactInformation"], SELLER_CONTACT]
    doc[ITEMS] = []
    for raw in body[ITEMS]:
        item = {k: v for k, v in raw.items() if k not in ("state", "stateChange")}
        POQ_ITEM.move(item, "acknowledged")
        doc[ITEMS].append(item)
    POQ.move(doc, "acknowledged")
    return doc


def _answer_immediately(doc: Document, found: dict[str, Assessment]) -> None:
    """An immediate answer goes straight to ``done`` without passing through ``acknowledged``."""
    doc["state"], doc["stateChange"] = "done", [{"changeDate": doc["creationDate"], "state": "done"}]
    for item in doc[ITEMS]:
        item["state"], item["stateChange"] = "done", [{"changeDate": doc["creationDate"], "state": "done"}]
        _record(item, found[item["id"]])


def _record(item: Document, assessment: Assessment) -> None:
    """Write an item's serviceability answer (MEF 79.1): confidence, the reason when not green, interval."""
    item["serviceabilityConfidence"] = assessment.confidence
    if assessment.reason and assessment.confidence != "green":
        item["serviceabilityConfidenceReason"] = assessment.reason
    if assessment.serviceable:
        item["installationInterval"] = assessment.installation_interval
        item["deliveryType"] = "onNetWithoutBuild"
        item["guaranteedUntilDate"] = later(days=GUARANTEED_DAYS)


def _served(doc: Document, base_url: str, irp: SellerIrp) -> Document:
    path = irp.path("productOfferingQualification")
    return {**doc, "href": f"{base_url}{path}/productOfferingQualification/{doc['id']}"}


@DBOS.workflow()
def qualify(poq_id: str, irp_name: str) -> None:
    """acknowledged → inProgress → (serviceability) → done; each transition notified after it commits."""
    dispatch(advance(poq_id, "inProgress", {}, irp_name))
    found = assess_items(poq_id, irp_name)
    dispatch(advance(poq_id, "done", found, irp_name))


@DBOS.step(retries_allowed=True, max_attempts=5, interval_seconds=1.0, backoff_rate=2.0)
def assess_items(poq_id: str, irp_name: str) -> dict[str, dict[str, Any]]:
    """Ask SOF (LEGATO feasibility) about every item; repeating the question is harmless."""
    rt = runtime.current()
    with rt.db.session() as session:
        items = _items_of(session, poq_id, named(irp_name))
        party = poqs.party_of(session, poq_id)
    found = serviceability.assess(rt.db.session, context.legato(), items, party)
    return {item_id: serviceability.assessment_json(a) for item_id, a in found.items()}


@DBOS.step()
def advance(poq_id: str, state: str, found: dict[str, dict[str, Any]], irp_name: str) -> list[str]:
    """Move the POQ and its items to ``state`` (recording ``found`` answers on ``done``) and queue the
    events; a re-run finds the states already there and queues nothing new."""
    rt = runtime.current()
    irp = named(irp_name)
    notifications = irp.notifications("productOfferingQualificationNotification")
    with rt.db.session() as session:
        doc = poqs.get(session, poq_id)
        party = poqs.party_of(session, poq_id)
        href = _served(doc, rt.settings.base_url, irp)["href"]
        deliveries: list[str] = []
        for item in doc[ITEMS]:
            if POQ_ITEM.move(item, state):
                if item["id"] in found:
                    _record(item, serviceability.assessment_of(found[item["id"]]))
                event = {"id": poq_id, "href": href, "poqItemId": item["id"], "state": state}
                deliveries += publish(
                    session,
                    notifications,
                    party,
                    "poqItemStateChangeEvent",
                    event,
                    f"{poq_id}:{item['id']}:{state}",
                )
        if POQ.move(doc, state):
            event = {"id": poq_id, "href": href, "state": state}
            deliveries += publish(
                session, notifications, party, "poqStateChangeEvent", event, f"{poq_id}:{state}"
            )
        poqs.put(session, doc)
    return deliveries


def _items_of(session: Session, poq_id: str, irp: SellerIrp) -> list[PreorderItem]:
    doc = poqs.get(session, poq_id)
    return serviceability.parse_items(doc[ITEMS], ITEMS, "qualificationItemRelationship", irp)
