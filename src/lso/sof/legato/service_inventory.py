"""Service Inventory (Kylie) of the services SOF built: LEGATO v7 for BUS, ALLEGRO v2 for customers and
INTERLUDE v2 for partner buyers — one implementation mounted per IRP with that IRP's access rule.

A caller sees the services it may assure (:func:`lso.sof.assurance.access.audience`): BUS the ones it
ordered, a customer or partner the ones BUS ordered for it. That is how a customer learns the service id
an ALLEGRO performance job names: its services carry the CANTATA product order's id as ``externalId`` and
the product order item's id as ``serviceOrderItem.itemId``.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request

from lso.mef import runtime
from lso.mef.http import MefResponse
from lso.mef.notifications import NotificationApi, hub_router
from lso.mef.paging import page_of, page_response
from lso.mef.store import Document
from lso.security.tokens import Caller
from lso.sof import records
from lso.sof.assurance.access import ALLEGRO, INTERLUDE, LEGATO, Irp, visible_service, visible_services

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

    def as_served(self, service: Document) -> Document:
        """The service with the hrefs of this mount (SOF stores LEGATO's)."""
        served = {
            **service,
            "href": f"{runtime.current().settings.base_url}{self.base}/service/{service['id']}",
        }
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


def router() -> APIRouter:
    api = APIRouter()
    for mount in MOUNTS:
        api.include_router(_mount_router(mount))
    return api


def _mount_router(mount: InventoryMount) -> APIRouter:
    api = APIRouter(prefix=mount.base, tags=[mount.tag])
    # LEGATO's hub is the one SOF publishes service events to (records.INVENTORY_EVENTS).
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
