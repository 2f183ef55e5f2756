"""LEGATO Service Inventory v7 (Kylie): the services SOF built, with their design, readable by BUS."""

from __future__ import annotations

from fastapi import APIRouter, Request

from lso.mef import runtime
from lso.mef.http import MefResponse
from lso.mef.notifications import hub_router
from lso.mef.paging import list_page
from lso.security.tokens import InternalDep
from lso.sof import records

_FILTERS = {"state", "externalId", "serviceType", "serviceDate", "startDate", "endDate"}


def router() -> APIRouter:
    api = APIRouter(prefix=records.INVENTORY_BASE, tags=["LEGATO serviceInventory"])
    api.include_router(hub_router(records.INVENTORY_EVENTS, "LEGATO serviceInventory"))

    @api.get("/service")
    def list_service(request: Request, caller: InternalDep) -> MefResponse:
        return list_page(runtime.current().db, records.SERVICES, request, caller.party_id, _FILTERS)

    @api.get("/service/{service_id}")
    def retrieve_service(service_id: str, caller: InternalDep) -> MefResponse:
        with runtime.current().db.read() as session:
            return MefResponse(records.SERVICES.get(session, service_id, caller.party_id))

    return api
