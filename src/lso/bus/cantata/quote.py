"""CANTATA Quote Management v4 and SONATA v10 (MEF 55.0.1 §10.2 step 3e).

Item prices come from the catalog's rules (:mod:`lso.bus.pricing`): an EVC or OVC by its CIR, its term and the
distance between its two sites that SOF's feasibility check measured; a UNI by its port speed and term.
A budgetary request is ``answered``; a firm one, checked for serviceability, is ``approved.orderable``;
an item we cannot deliver is ``unableToProvide`` with the reason. ``instantSyncQuote`` answers in the 201;
otherwise a DBOS workflow takes the quote from ``acknowledged`` through ``inProgress``, notifying hubs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from dbos import DBOS, SetWorkflowID
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from lso.bus import context, pricing, serviceability
from lso.bus.cantata.listing import matching_page, summary_page
from lso.bus.irp import SellerIrp, named
from lso.bus.legato_client import LegatoClient
from lso.bus.products import AccessElineOvcConfiguration, EvcConfiguration
from lso.bus.serviceability import Assessment, PreorderItem
from lso.entity import EntityContext
from lso.mef import runtime
from lso.mef.body import JsonBody, parse_model
from lso.mef.dates import iso, later, now_iso
from lso.mef.errors import Issue, unprocessable
from lso.mef.http import MefResponse
from lso.mef.notifications import dispatch, hub_router, publish
from lso.mef.paging import page_of
from lso.mef.statemachine import StateMachine
from lso.mef.store import Document, Store
from lso.security.tokens import CallerDep

ITEMS = "quoteItem"
RELATIONSHIPS = "quoteItemRelationship"
VALID_DAYS = 30
DEFAULT_TERM_MONTHS = 12

quotes = Store("bus.quote", "quote")
_COMPLETION_DATES = {
    "requestedQuoteCompletionDate",
    "expectedQuoteCompletionDate",
    "effectiveQuoteCompletionDate",
}
_ANSWERS = ["answered", "approved.orderable", "approved.orderableAlternate", "unableToProvide"]
QUOTE = StateMachine(
    "quote",
    {
        "acknowledged": ["inProgress", "rejected", "cancelled"],
        "inProgress": ["inProgress.draft", *_ANSWERS, "cancelled"],
        "inProgress.draft": ["inProgress", *_ANSWERS, "cancelled"],
        "answered": ["declined", "expired"],
        "approved.orderable": ["accepted", "declined", "expired"],
        "approved.orderableAlternate": ["accepted", "declined", "expired"],
    },
)
QUOTE_ITEM = StateMachine(
    "quoteItem",
    {
        "acknowledged": ["inProgress", "rejected", "abandoned"],
        "inProgress": ["inProgress.draft", *_ANSWERS, "abandoned"],
        "inProgress.draft": ["inProgress", *_ANSWERS, "abandoned"],
    },
)


class QuoteCreate(BaseModel):
    model_config = ConfigDict(extra="allow")
    instantSyncQuote: bool
    buyerRequestedQuoteLevel: Literal["budgetary", "firm"]
    quoteItem: list[dict[str, Any]] = Field(min_length=1)
    requestedQuoteCompletionDate: datetime | None = None
    externalId: str | None = None
    projectId: str | None = None


class QuoteOperation(BaseModel):
    model_config = ConfigDict(extra="allow")
    quoteId: str
    reason: str | None = None


def router(ctx: EntityContext, irp: SellerIrp) -> APIRouter:
    api = irp.router("quoteManagement")
    url = ctx.settings.base_url

    @api.post("/quote", status_code=201)
    def create_quote(body: JsonBody, caller: CallerDep) -> MefResponse:
        create = parse_model(QuoteCreate, body)
        items = serviceability.parse_items(body[ITEMS], ITEMS, RELATIONSHIPS, irp)
        for i, raw in enumerate(body[ITEMS]):
            _term_months(raw, i)
        doc = _acknowledged(body, create)
        if create.instantSyncQuote:
            legato = LegatoClient(ctx.client("sof"))
            found = serviceability.assess(ctx.db.session, legato, items, caller.party_id)
            _answer(doc, items, found, history=False)
        else:
            doc["expectedQuoteCompletionDate"] = later(hours=1)
        with ctx.db.session() as session:
            quotes.add(session, doc, party=caller.party_id)
        if not create.instantSyncQuote:
            with SetWorkflowID(f"quote:{doc['id']}"):
                DBOS.start_workflow(prepare_quote, doc["id"], irp.name)
        return MefResponse(_served(doc, url, irp), status_code=201)

    @api.get("/quote")
    def list_quote(request: Request, caller: CallerDep) -> MefResponse:
        allowed = {"state", "quoteLevel", "externalId", "projectId", "quoteDate"} | _COMPLETION_DATES
        page = page_of(request, allowed)
        with ctx.db.read() as session:
            docs, total = matching_page(session, quotes, caller.party_id, page.filters, None, page)
        return summary_page([_served(d, url, irp) for d in docs], total, page, {"id", "href", *allowed})

    @api.get("/quote/{quote_id}")
    def retrieve_quote(quote_id: str, caller: CallerDep) -> MefResponse:
        with ctx.db.read() as session:
            return MefResponse(_served(quotes.get(session, quote_id, caller.party_id), url, irp))

    @api.post("/cancelQuote")
    def cancel_quote(body: JsonBody, caller: CallerDep) -> MefResponse:
        """The buyer withdraws a request the seller has not answered yet."""
        operation = parse_model(QuoteOperation, body)
        return _close(ctx, irp, caller.party_id, operation, "cancelled", "abandoned")

    @api.post("/declineQuote")
    def decline_quote(body: JsonBody, caller: CallerDep) -> MefResponse:
        """The buyer turns down an answered quote."""
        operation = parse_model(QuoteOperation, body)
        return _close(ctx, irp, caller.party_id, operation, "declined", None)

    api.include_router(hub_router(irp.notifications("quoteNotification"), irp.tag("quoteManagement")))
    return api


def _term_months(raw: dict[str, Any], index: int) -> int:
    """The item's requested term in months (12 by default); only the catalog's terms are offered."""
    term = raw.get("requestedQuoteItemTerm")
    if term is None:
        return DEFAULT_TERM_MONTHS
    duration = term.get("duration") if isinstance(term, dict) else None
    amount = duration.get("amount") if isinstance(duration, dict) else None
    units = duration.get("units") if isinstance(duration, dict) else None
    months = amount * 12 if units == "years" and isinstance(amount, int) else amount
    if units not in ("months", "years") or months not in pricing.TERMS_MONTHS:
        offered = ", ".join(f"{m} months" for m in pricing.TERMS_MONTHS)
        raise unprocessable(
            Issue(f"/{ITEMS}/{index}/requestedQuoteItemTerm/duration", f"the terms offered are {offered}")
        )
    return int(months)


def _acknowledged(body: dict[str, Any], create: QuoteCreate) -> Document:
    doc = {k: v for k, v in body.items() if k != ITEMS}
    doc["id"] = quotes.new_id()
    doc["quoteDate"] = now_iso()
    if create.requestedQuoteCompletionDate is not None:
        doc["requestedQuoteCompletionDate"] = iso(create.requestedQuoteCompletionDate)
    doc[ITEMS] = []
    for raw in body[ITEMS]:
        item = {k: v for k, v in raw.items() if k not in ("state", "stateChange")}
        QUOTE_ITEM.move(item, "acknowledged")
        doc[ITEMS].append(item)
    QUOTE.move(doc, "acknowledged")
    return doc


def _answer(
    doc: Document, items: list[PreorderItem], found: dict[str, Assessment], history: bool
) -> list[str]:
    """Price every item and move the quote to its answer; returns the states that changed, as
    ``itemId`` (or ``""`` for the quote itself) for notification. Without ``history`` (an immediate
    answer) the answer replaces ``acknowledged``, which an immediate quote never passes through."""
    level = doc["buyerRequestedQuoteLevel"]
    answer = "answered" if level == "budgetary" else "approved.orderable"
    changed = []
    for index, (item, preorder) in enumerate(zip(doc[ITEMS], items, strict=True)):
        assessment = found[preorder.id]
        if assessment.serviceable:
            charges = _charges(preorder, assessment, _term_months(item, index))
            item["quoteItemPrice"] = pricing.quote_prices(charges)
            item["quoteItemTerm"] = [pricing.item_term(_term_months(item, index))]
            item["quoteItemInstallationInterval"] = assessment.installation_interval
            item["subjectToFeasibilityCheck"] = False
            target = answer
        else:
            item["terminationError"] = [
                {"code": "otherIssue", "value": assessment.reason or "not serviceable"}
            ]
            target = "unableToProvide"
        if not history:
            item["stateChange"] = []
            item.pop("state")
        if QUOTE_ITEM.move(item, target):
            changed.append(item["id"])
    serviceable = any(i["state"] != "unableToProvide" for i in doc[ITEMS])
    doc["quoteLevel"] = level
    if serviceable:
        doc["validFor"] = {"startDateTime": now_iso(), "endDateTime": later(days=VALID_DAYS)}
    if not history:
        doc["stateChange"] = []
        doc.pop("state")
    if QUOTE.move(doc, answer if serviceable else "unableToProvide"):
        doc["effectiveQuoteCompletionDate"] = now_iso()
        changed.append("")
    return changed


def _charges(item: PreorderItem, assessment: Assessment, months: int) -> pricing.Charges:
    if isinstance(item.configuration, EvcConfiguration | AccessElineOvcConfiguration):
        cir = item.configuration.ingress_cir_mbps()
        ours = pricing.evc_charges(item.configuration.type, cir, assessment.distance_km or 0.0, months)
        partner = assessment.partner or {}  # the partner's share of an off-net EPL, priced by the partner
        return pricing.Charges(
            round(ours.mrc + partner.get("mrc", 0.0), 2), round(ours.nrc + partner.get("nrc", 0.0), 2)
        )
    return pricing.uni_charges(serviceability.uni_speed_mbps(item), months)


def _close(
    ctx: EntityContext,
    irp: SellerIrp,
    party: str,
    operation: QuoteOperation,
    state: str,
    item_state: str | None,
) -> MefResponse:
    with ctx.db.session() as session:
        doc = quotes.find(session, operation.quoteId, party)
        if doc is None:  # these operations document no 404: the reference in the body is what is wrong
            raise unprocessable(
                Issue("/quoteId", f"quote {operation.quoteId} does not exist", "referenceNotFound")
            )
        if not QUOTE.can(doc["state"], state):
            raise unprocessable(Issue("/quoteId", f"a quote in state {doc['state']} cannot be {state}"))
        QUOTE.move(doc, state, reason=operation.reason)
        changed = [""]
        for item in doc[ITEMS]:
            if item_state and QUOTE_ITEM.can(item["state"], item_state):
                QUOTE_ITEM.move(item, item_state, reason=operation.reason)
                changed.append(item["id"])
        quotes.put(session, doc)
        deliveries = _publish(session, doc, party, changed, ctx.settings.base_url, irp)
    dispatch(deliveries)
    result = {"quoteId": doc["id"], "reason": operation.reason}
    return MefResponse(result)


def _publish(
    session: Session, doc: Document, party: str | None, changed: list[str], base_url: str, irp: SellerIrp
) -> list[str]:
    href = _served(doc, base_url, irp)["href"]
    deliveries = []
    states = {item["id"]: item["state"] for item in doc[ITEMS]}
    for item_id in changed:
        if item_id:
            event = {"id": doc["id"], "href": href, "quoteItemId": item_id, "state": states[item_id]}
            key, event_type = f"{doc['id']}:{item_id}:{states[item_id]}", "quoteItemStateChangeEvent"
        else:
            event = {"id": doc["id"], "href": href, "state": doc["state"]}
            key, event_type = f"{doc['id']}:{doc['state']}", "quoteStateChangeEvent"
        deliveries += publish(session, irp.notifications("quoteNotification"), party, event_type, event, key)
    return deliveries


def _served(doc: Document, base_url: str, irp: SellerIrp) -> Document:
    return {**doc, "href": f"{base_url}{irp.path('quoteManagement')}/quote/{doc['id']}"}


@DBOS.workflow()
def prepare_quote(quote_id: str, irp_name: str) -> None:
    """acknowledged → inProgress → (serviceability and prices) → the answer; notified after each commit."""
    dispatch(start_quote(quote_id, irp_name))
    found = assess_quote(quote_id, irp_name)
    dispatch(answer_quote(quote_id, found, irp_name))


@DBOS.step()
def start_quote(quote_id: str, irp_name: str) -> list[str]:
    rt = runtime.current()
    with rt.db.session() as session:
        doc = quotes.get(session, quote_id)
        changed = [item["id"] for item in doc[ITEMS] if QUOTE_ITEM.move(item, "inProgress")]
        if QUOTE.move(doc, "inProgress"):
            changed.append("")
        quotes.put(session, doc)
        party = quotes.party_of(session, quote_id)
        return _publish(session, doc, party, changed, rt.settings.base_url, named(irp_name))


@DBOS.step(retries_allowed=True, max_attempts=5, interval_seconds=1.0, backoff_rate=2.0)
def assess_quote(quote_id: str, irp_name: str) -> dict[str, dict[str, Any]]:
    rt = runtime.current()
    with rt.db.session() as session:
        raw = quotes.get(session, quote_id)[ITEMS]
        items = serviceability.parse_items(raw, ITEMS, RELATIONSHIPS, named(irp_name))
        party = quotes.party_of(session, quote_id)
    found = serviceability.assess(rt.db.session, context.legato(), items, party)
    return {item_id: serviceability.assessment_json(a) for item_id, a in found.items()}


@DBOS.step()
def answer_quote(quote_id: str, found: dict[str, dict[str, Any]], irp_name: str) -> list[str]:
    rt = runtime.current()
    with rt.db.session() as session:
        doc = quotes.get(session, quote_id)
        if doc["state"] != "inProgress":
            return []  # already answered (a re-run) or cancelled meanwhile
        items = serviceability.parse_items(doc[ITEMS], ITEMS, RELATIONSHIPS, named(irp_name))
        assessments = {k: serviceability.assessment_of(v) for k, v in found.items()}
        changed = _answer(doc, items, assessments, history=True)
        quotes.put(session, doc)
        party = quotes.party_of(session, quote_id)
        return _publish(session, doc, party, changed, rt.settings.base_url, named(irp_name))
