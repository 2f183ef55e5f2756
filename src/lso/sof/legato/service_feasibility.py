"""lso extension of LEGATO: service feasibility (MEF 55.0.1 §10.2 steps 3b/3c; docs/legato.md).

LEGATO has no feasibility API, yet BUS needs SOF's topology view to answer a POQ: which components of a
service fall in the provider footprint, whether they are serviceable, how confidently and how soon. SOF
asks ICM (PRESTO ``lso-check-feasibility``) and answers in MEF vocabulary.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from lso.mef import runtime
from lso.mef.body import JsonBody, parse_model
from lso.mef.dates import now_iso
from lso.mef.errors import MefError
from lso.mef.http import MefResponse
from lso.mef.store import Document
from lso.security.tokens import InternalDep
from lso.sof import records
from lso.sof.configuration import InformationRate
from lso.sof.presto_client import Feasibility, PrestoClient, PrestoError

FEW_PORTS = 5
"""Fewer free UNI ports than this at a site make the answer ``yellow``: they may be gone by order time."""

INSTALLATION_DAYS = {"green": 10, "yellow": 20}


class _SiteRef(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    type: Literal["GeographicSiteRef"] = Field(alias="@type")
    id: str = Field(min_length=1)


class _FeasibilityCheck(BaseModel):
    place: list[_SiteRef] = Field(min_length=2, max_length=2)
    bandwidth: InformationRate


def router(presto: Callable[[], PrestoClient]) -> APIRouter:
    api = APIRouter(prefix=records.FEASIBILITY_BASE, tags=["LEGATO serviceFeasibility (lso extension)"])

    @api.post("/feasibilityCheck", status_code=201)
    def check_feasibility(body: JsonBody, caller: InternalDep) -> MefResponse:
        check = parse_model(_FeasibilityCheck, body)
        site_a, site_z = (p.id for p in check.place)
        try:
            answer = presto().check_feasibility(site_a, site_z, check.bandwidth.mbps)
        except PrestoError as exc:
            raise MefError(500, f"ICM could not assess feasibility: {exc.reason or exc}") from exc
        result = _answer(answer, check)
        with runtime.current().db.session() as session:
            records.FEASIBILITY_CHECKS.add(session, result, party=caller.party_id)
        return MefResponse(result, status_code=201)

    @api.get("/feasibilityCheck/{check_id}")
    def retrieve_feasibility_check(check_id: str, caller: InternalDep) -> MefResponse:
        with runtime.current().db.read() as session:
            return MefResponse(records.FEASIBILITY_CHECKS.get(session, check_id, caller.party_id))

    return api


def _answer(answer: Feasibility, check: _FeasibilityCheck) -> Document:
    check_id = str(uuid.uuid4())
    confidence = _confidence(answer)
    components: list[dict[str, Any]] = [
        {
            "type": "UNI",
            "place": {"@type": "GeographicSiteRef", "id": site.site_id},
            "footprint": "provider" if site.on_net else "offNet",
            "serviceable": site.on_net and site.free_uni_ports > 0,
            "freeUniPorts": site.free_uni_ports,
        }
        for site in answer.sites
    ]
    components.append({"type": "EVC", "footprint": "provider", "serviceable": answer.path_found})
    result: Document = {
        "id": check_id,
        "href": records.href(f"{records.FEASIBILITY_BASE}/feasibilityCheck/{check_id}"),
        "checkDate": now_iso(),
        "place": [p.model_dump(by_alias=True) for p in check.place],
        "bandwidth": check.bandwidth.model_dump(),
        "serviceable": answer.feasible,
        "serviceabilityConfidence": confidence,
        "distanceKm": answer.distance_km,
        "hopCount": answer.hop_count,
        "component": components,
        "reason": answer.reason,
    }
    if confidence in INSTALLATION_DAYS:
        result["installationInterval"] = {"amount": INSTALLATION_DAYS[confidence], "units": "businessDays"}
    return result


def _confidence(answer: Feasibility) -> str:
    if not answer.feasible:
        return "red"
    if any(site.free_uni_ports < FEW_PORTS for site in answer.sites):
        return "yellow"
    return "green"
