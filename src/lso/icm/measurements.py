"""PRESTO extension ``lso-get-performance-measurements``: the completed MEF 35.1 measurement intervals of
a connectivity service's PM sessions, per ordered pair of its end points (MEF 55.0.1 §10.4 step 4: SOF
fetches what it has not stored yet).

Kept apart from presto.py so the assurance work does not touch the activation RPCs. The sessions are the
ones ``lso-start-performance-monitoring`` opens (same ids, PUT is idempotent); the measurement profile SOF
sends (one per CoS) is put on every session first, so reading a service that was never monitored, or
whose SLS changed, starts or re-configures its sessions rather than failing.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from pydantic import Field

from lso.db import Database
from lso.icm.adagio_client import AdagioClient, AdagioError
from lso.icm.connectivity import ConnectivityServices
from lso.icm.tapi import ServiceRefInput
from lso.mef.body import parse_model
from lso.mef.errors import MefError
from lso.mef.http import MefResponse
from lso.security.tokens import InternalDep

PREFIX = "/restconf/operations"
Payload = Annotated[dict[str, Any] | None, Body()]


class MeasurementsInput(ServiceRefInput):
    """Which intervals: those starting at or after ``since`` (epoch seconds), measured per ``profile``
    (ADAGIO's PM session measurement profile, one per CoS; checked by ECM)."""

    since: int | None = Field(default=None, ge=0)
    profile: list[dict[str, Any]] | None = None


def measurements_router(db: Database, adagio: AdagioClient) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["PRESTO"])
    services = ConnectivityServices(db, adagio)

    @router.post("/lso-get-performance-measurements/")
    def get_performance_measurements(_caller: InternalDep, payload: Payload = None) -> MefResponse:
        data = (payload or {}).get("input", {})
        request = parse_model(MeasurementsInput, data if isinstance(data, dict) else None, "/input")
        doc = services.get(request.service_id_or_name)
        ends = [{"element": ep["element"], "port": ep["port"]} for ep in doc["endPoints"]]
        measured = [
            _intervals(adagio, doc["id"], a, z, request)
            for a in ends
            for z in ends
            if a != z  # ordered pairs: MEF 10.4 objectives hold per direction
        ]
        return MefResponse({"output": {"service-id": doc["id"], "measurement": measured}})

    return router


def _intervals(
    adagio: AdagioClient, service_id: str, a: dict[str, str], z: dict[str, str], request: MeasurementsInput
) -> dict[str, Any]:
    session_id = f"{service_id}:{a['element']}-{a['port']}:{z['element']}-{z['port']}"
    body: dict[str, Any] = {"serviceId": service_id, "aEnd": a, "zEnd": z}
    if request.profile is not None:
        body["profile"] = request.profile
    try:
        adagio.start_oam_session(session_id, body)
    except AdagioError as exc:
        raise MefError(409, f"OAM session {session_id}: {exc.message}", code="conflict") from exc
    query = {} if request.since is None else {"since": request.since}
    response = adagio.http.get(f"{AdagioClient.PREFIX}/oam-sessions/{session_id}/intervals", params=query)
    if response.status_code >= 400:
        raise MefError(409, f"OAM session {session_id} intervals could not be read", code="conflict")
    return {"a-end": a, "z-end": z, "interval": response.json()["interval"]}
