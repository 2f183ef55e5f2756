"""Service Inventory (Kylie) of the services SOF built: LEGATO v7 for BUS, ALLEGRO v2 for customers and
INTERLUDE v2 for partner buyers — one implementation mounted per IRP with that IRP's access rule.

A caller sees the services it may assure (:func:`lso.sof.assurance.access.audience`): BUS the ones it
ordered, a customer or partner the ones BUS ordered for it. That is how a customer learns the service id
an ALLEGRO performance job names: its services carry the CANTATA product order's id as ``externalId`` and
the product order item's id as ``serviceOrderItem.itemId``.

Every change SOF makes to a service is published on all three mounts' hubs
(:func:`publish_service_event`), each event to the parties that may see the service there — the same rule
as for reading it, so a hub hears exactly of the services its party can retrieve.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from lso.mef import runtime
from lso.mef.http import MefResponse
from lso.mef.notifications import NotificationApi, hub_router, publish
from lso.mef.paging import page_of, page_response
from lso.mef.store import Document
from lso.security.tokens import Caller
from lso.sof import records
from lso.sof.assurance.access import (
    ALLEGRO,
    INTERLUDE,
    LEGATO,
    Irp,
    audience,
    visible_service,
    visible_services,
)

_FILTERS = {"state", "externalId", "serviceType", "serviceDate", "startDate", "endDate"}


@dataclass(frozen=True)
class InventoryMount:
    """The service inventory on one IRP: who may call it and the document version it serves."""

    irp: Irp
    version: str

    @property
    def base(self) -> str:
        return f"/mefApi/{self.irp.name}/serviceInventory/{self.version}"

    @property
    def tag(self) -> str:
        return f"{self.irp.name.upper()} serviceInventory"

    @property
    def events(self) -> NotificationApi:
        return NotificationApi(self.irp.name, "serviceInventoryNotification", self.version)

    def href(self, service_id: str) -> str:
        return f"{runtime.current().settings.base_url}{self.base}/service/{service_id}"

    def as_served(self, service: Document) -> Document:
        """The service with the hrefs of this mount (SOF stores LEGATO's)."""
        served = {**service, "href": self.href(service["id"])}
        if "serviceRelationship" in service:
            served["serviceRelationship"] = [
                {**rel, "service": self._related(rel["service"])} for rel in service["serviceRelationship"]
            ]
        return served

    def _related(self, ref: Document) -> Document:
        href = ref.get("href")
        if isinstance(href, str):
            return {**ref, "href": href.replace(records.INVENTORY_BASE, self.base, 1)}
        return ref


MOUNTS = (InventoryMount(LEGATO, "v7"), InventoryMount(ALLEGRO, "v2"), InventoryMount(INTERLUDE, "v2"))


def publish_service_event(
    session: Session, service: Document, event_type: str, event_id: str, **detail: str
) -> list[str]:
    """Queue a Kylie serviceInventory event (``serviceCreateEvent``, ``serviceStateChangeEvent`` with
    ``state``, ``serviceAttributeValueChangeEvent``) about ``service`` on every mount, for each party that
    may see it (its owner, BUS or a partner buyer, and the customer BUS ordered it for); returns the
    delivery ids to dispatch once the transaction commits. The service is stored first: its owner is read
    from the store. LEGATO's hubs take only this domain's entities, ALLEGRO's and INTERLUDE's only their
    callers, so a customer's hub never hears of another party's service."""
    ids: list[str] = []
    parties = sorted(audience(session, service))
    for mount in MOUNTS:
        event = {"id": service["id"], "href": mount.href(service["id"]), **detail}
        for party in parties:
            ids += publish(session, mount.events, party, event_type, event, event_id)
    return ids


def router() -> APIRouter:
    api = APIRouter()
    for mount in MOUNTS:
        api.include_router(_mount_router(mount))
    return api


def _mount_router(mount: InventoryMount) -> APIRouter:
    api = APIRouter(prefix=mount.base, tags=[mount.tag])
    api.include_router(hub_router(mount.events, mount.tag, authorise=mount.irp.depends))

    @api.get("/service")
    def list_service(request: Request, caller: Caller = mount.irp.depends) -> MefResponse:
        page = page_of(request, _FILTERS)
        with runtime.current().db.read() as session:
            found = visible_services(session, caller, page.filters)
        items = [mount.as_served(s) for s in found[page.offset : page.offset + page.limit]]
        return page_response(items, len(found), page)

    @api.get("/service/{service_id}")
    def retrieve_service(service_id: str, caller: Caller = mount.irp.depends) -> MefResponse:
        with runtime.current().db.read() as session:
            return MefResponse(mount.as_served(visible_service(session, service_id, caller)))

    return api
