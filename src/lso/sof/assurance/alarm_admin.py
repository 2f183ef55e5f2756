"""The operator's alarm API (``/admin/alarms``): every party's alarms, and acknowledging one.

Kylie alarmManagement v3 lets buyers read alarms but not acknowledge them: acknowledging is the
provider's operator's act. Like ``/admin/partners`` this is not a MEF API, so it lives outside ``/mefApi``
and answers only the domain's administrator (the ``lso-admin`` client, role ``admin``); errors are still
MEF error bodies.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from lso.mef import runtime
from lso.mef.body import JsonBody, parse_model
from lso.mef.http import MefResponse
from lso.mef.notifications import dispatch
from lso.mef.store import Document
from lso.security.admin import AdminDep
from lso.sof.assurance import alarms

PREFIX = "/admin/alarms"


class Acknowledgement(BaseModel):
    """Who takes note of the alarm (Kylie Comment ``userIdentifier``)."""

    userIdentifier: str = Field(min_length=1)


def _with_party(alarm: Document, party: str | None) -> Document:
    return {**alarm, "party": party}


def router() -> APIRouter:
    api = APIRouter(prefix=PREFIX, tags=["lso alarms (admin)"])

    @api.get("")
    def list_alarms(_operator: AdminDep, state: str | None = None) -> MefResponse:
        """Every party's alarms as SOF last recorded them (ICM's events keep them current), newest first."""
        filters = {"state": state} if state else {}
        with runtime.current().db.read() as session:
            found, _ = alarms.ALARMS.list(session, party=None, filters=filters, offset=0, limit=100_000)
            return MefResponse([_with_party(a, alarms.ALARMS.party_of(session, a["id"])) for a in found])

    @api.post("/{alarm_id}/acknowledge")
    def acknowledge(alarm_id: str, body: JsonBody, operator: AdminDep) -> MefResponse:
        by = parse_model(Acknowledgement, body)
        alarm, deliveries = alarms.acknowledge(alarm_id, by.userIdentifier, operator.party_id)
        dispatch(deliveries)  # after the acknowledgement committed
        return MefResponse(alarm)

    return api
