"""BUS's side of SLS assessment (MEF 55.0.1 §10.6 steps 6-7): hear SOF's degradations over LEGATO and tell
the customer over CANTATA.

SOF shows a degradation on the service as its ``slsDegradation`` characteristic and announces every step
with a LEGATO ``serviceAttributeValueChangeEvent``. BUS reads the service (the event only names it), finds
the product the service realises and keeps one CANTATA *CIM incident* per degradation — Kylie's Circuit
Impairment and Maintenance API, whose ``CimServiceImpairmentIncident`` is exactly "a product not meeting
its specification" (MEF 113) — ``created`` → ``inProgress`` while SOF works on it → ``closed`` once
resolved, with a seller note per step SOF takes — publishing ``cimIncidentCreateEvent``,
``cimIncidentStatusChangeEvent`` and ``cimIncidentAttributeValueChangeEvent`` to the customer's hubs.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from dbos import DBOS, SetWorkflowID
from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from lso.bus import context
from lso.bus.irp import CANTATA
from lso.bus.order.fulfilment import LEGATO_HUBS
from lso.bus.order.records import REALIZATIONS, product_href
from lso.entity import EntityContext
from lso.mef import runtime
from lso.mef.dates import now_iso
from lso.mef.http import MefResponse
from lso.mef.notifications import NotificationApi, dispatch, hub_router, listener_router, publish
from lso.mef.paging import page_of, page_response
from lso.mef.statemachine import StateMachine
from lso.mef.store import Document, Store
from lso.security.tokens import CallerDep

CIM_BASE = "/mefApi/cantata/cimIncident/v1"
CIM_EVENTS = NotificationApi("cantata", "cimIncidentNotification", "v1")
SERVICE_INVENTORY_EVENTS = NotificationApi("legato", "serviceInventoryNotification", "v7")
INCIDENTS = Store("bus.cimIncident", "cimIncident")
INCIDENT_STATES = StateMachine("cimIncident", {"created": ["inProgress", "closed"], "inProgress": ["closed"]})
_HUB = "serviceInventoryNotification"
_NAMESPACE = uuid.UUID("5f0c1d7e-2b8a-4f4e-9c61-0e7d3a9b2c44")
_FILTERS = {"priority", "severity", "impact", "incidentType", "status", "creationDate", "situationStartDate"}
_RELATED = {"relatedEntityId", "relatedEntityType"}
_MAX_INCIDENTS = 10_000
NOC = {
    "role": "incidentContact",
    "name": "Network Operations Centre",
    "organization": "lso provider",
    "number": "+44 20 7946 0000",
    "emailAddress": "noc@lso.example",
}


def router(_ctx: EntityContext) -> APIRouter:
    api = APIRouter()
    cantata = APIRouter(prefix=CIM_BASE, tags=["CANTATA cimIncident"])
    cantata.include_router(hub_router(CIM_EVENTS, "CANTATA cimIncident events subscription"))

    @cantata.get("/cimIncident")
    def list_cim_incident(request: Request, caller: CallerDep) -> MefResponse:
        page = page_of(request, _FILTERS | _RELATED)
        related = {name: page.filters.pop(name) for name in _RELATED if name in page.filters}
        with runtime.current().db.read() as session:
            if not related:
                items, total = INCIDENTS.list(
                    session, party=caller.party_id, filters=page.filters, offset=page.offset, limit=page.limit
                )
                return page_response(items, total, page)
            # relatedEntity is a list inside the document: filtered here, over one party's incidents
            every, _ = INCIDENTS.list(
                session, party=caller.party_id, filters=page.filters, offset=0, limit=_MAX_INCIDENTS
            )
        matching = [i for i in every if _relates(i, related)]
        return page_response(matching[page.offset : page.offset + page.limit], len(matching), page)

    @cantata.get("/cimIncident/{incident_id}")
    def retrieve_cim_incident(incident_id: str, caller: CallerDep) -> MefResponse:
        with runtime.current().db.read() as session:
            return MefResponse(INCIDENTS.get(session, incident_id, caller.party_id))

    api.include_router(cantata)
    api.include_router(
        listener_router(
            SERVICE_INVENTORY_EVENTS, {"serviceAttributeValueChangeEvent": on_service_changed}, internal=True
        )
    )
    return api


def recover(_ctx: EntityContext) -> None:
    """Subscribe to SOF's service inventory events once per domain (in the background: the server that
    answers the subscription is not listening yet while the domain starts)."""
    with SetWorkflowID("bus-subscribe-service-inventory"):
        DBOS.start_workflow(subscribe)


@DBOS.workflow(name="bus.subscribe_service_inventory")
def subscribe() -> None:
    register_inventory_hub()


@DBOS.step(retries_allowed=True, max_attempts=10, interval_seconds=0.5, backoff_rate=2.0)
def register_inventory_hub() -> None:
    rt = runtime.current()
    with rt.db.read() as session:
        if LEGATO_HUBS.find(session, _HUB) is not None:
            return
    body = {"callback": rt.settings.base_url, "query": "eventType=serviceAttributeValueChangeEvent"}
    response = context.legato().http.post("/mefApi/legato/serviceInventory/v7/hub", json=body)
    response.raise_for_status()
    with rt.db.session() as session:
        if LEGATO_HUBS.find(session, _HUB) is None:
            LEGATO_HUBS.add(session, {"id": _HUB, "hubId": response.json()["id"]})


def on_service_changed(body: Document) -> None:
    """Bring the customer's CIM incident in line with the degradation SOF reports on the service now.

    The event only names the service and events may arrive out of order, so the service is read back and
    its current degradation state is what counts; re-applying it changes nothing.
    """
    event = body.get("event")
    service_id = event.get("id") if isinstance(event, dict) else None
    if not isinstance(service_id, str):
        return
    service = context.legato().get_service(service_id)
    degradation = _characteristic(service, "slsDegradation")
    if not isinstance(degradation, dict):
        return
    with runtime.current().db.session() as session:
        product_id, party = _product_of(session, service_id)
        if product_id is None:
            return  # a service no product of ours realises (e.g. ordered over LEGATO directly)
        deliveries = _follow(session, degradation, product_id, party)
    dispatch(deliveries)


def _follow(session: Session, degradation: Document, product_id: str, party: str | None) -> list[str]:
    incident_id = str(uuid.uuid5(_NAMESPACE, degradation["id"]))
    incident = INCIDENTS.find(session, incident_id)
    deliveries: list[str] = []
    if incident is None:
        incident = _new_incident(incident_id, degradation, product_id)
        INCIDENTS.add(session, incident, party=party)
        deliveries += _announce(session, incident, party, "cimIncidentCreateEvent", "create")
    noted = _note(incident, degradation)
    target = "closed" if degradation["state"] == "resolved" else "inProgress"
    if degradation["state"] != "open" and INCIDENT_STATES.can(incident["status"], target):
        incident["status"] = target
        incident["statusChange"].append(
            {"changeDate": now_iso(), "status": target, "changeReason": str(degradation.get("detail", ""))}
        )
        if target == "closed":
            incident["closedDate"] = now_iso()
        INCIDENTS.put(session, incident)
        return deliveries + _announce(session, incident, party, "cimIncidentStatusChangeEvent", target)
    if noted:
        INCIDENTS.put(session, incident)
        tag = f"note:{degradation['state']}"
        return deliveries + _announce(session, incident, party, "cimIncidentAttributeValueChangeEvent", tag)
    return deliveries


def _note(incident: Document, degradation: Document) -> bool:
    """Add SOF's step as a seller note, once per degradation state; False when it is noted already."""
    notes = incident.setdefault("note", [])
    if any(note["id"] == degradation["state"] for note in notes):
        return False
    text = f"{degradation['state']}: {degradation.get('detail', '')}"
    notes.append(
        {
            "id": degradation["state"],
            "author": NOC["name"],
            "date": now_iso(),
            "source": "seller",
            "text": text,
        }
    )
    return True


def _new_incident(incident_id: str, degradation: Document, product_id: str) -> Document:
    now = now_iso()
    breached = sorted({str(b.get("metric")) for b in degradation.get("breach", [])})
    return {
        "@type": "CimServiceImpairmentIncident",
        "id": incident_id,
        "href": f"{runtime.current().settings.base_url}{CIM_BASE}/cimIncident/{incident_id}",
        "creationDate": now,
        "situationStartDate": degradation["openedDate"],
        "description": f"Product {product_id} does not meet its SLS ({', '.join(breached)}); "
        "the provider is testing and rerouting the service",
        "impact": "degraded",
        "incidentType": "congestion",  # MEF 113: frame delay or loss beyond the objectives
        "priority": "high",
        "severity": "moderate",
        "relatedContactInformation": [NOC],
        "relatedEntity": [
            {
                "@referredType": "Product",
                "id": product_id,
                "href": product_href(product_id, CANTATA),
                "role": "impactedProduct",
            }
        ],
        "status": "created",
        "statusChange": [
            {"changeDate": now, "status": "created", "changeReason": "SLS degradation detected"}
        ],
    }


def _announce(
    session: Session, incident: Document, party: str | None, event_type: str, tag: str
) -> list[str]:
    snapshot = copy.deepcopy(incident)  # the event carries the incident as it is now
    return publish(session, CIM_EVENTS, party, event_type, snapshot, event_id=f"{incident['id']}:{tag}")


def _relates(incident: Document, related: dict[str, str]) -> bool:
    return any(
        related.get("relatedEntityId", entity.get("id")) == entity.get("id")
        and related.get("relatedEntityType", entity.get("@referredType")) == entity.get("@referredType")
        for entity in incident.get("relatedEntity", [])
    )


def _product_of(session: Session, service_id: str) -> tuple[str | None, str | None]:
    found, _ = REALIZATIONS.list(session, party=None, filters={"serviceId": service_id}, offset=0, limit=1)
    if not found:
        return None, None
    return found[0]["id"], REALIZATIONS.party_of(session, found[0]["id"])


def _characteristic(service: Document, name: str) -> Any:
    return next(
        (c.get("value") for c in service.get("serviceCharacteristic", []) if c.get("name") == name), None
    )
