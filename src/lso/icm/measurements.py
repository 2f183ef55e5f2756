"""PRESTO extension ``lso-get-performance-measurements``: what the OAM sessions of a connectivity service
measure now, per ordered pair of its end points (MEF 55.0.1 §10.4 step 4: SOF fetches what it has not
cached).

Kept apart from presto.py so the assurance work does not touch the activation RPCs. The sessions are the
ones ``lso-start-performance-monitoring`` opens (same ids, PUT is idempotent), so reading a service that
was never monitored starts its sessions rather than failing.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

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


def measurements_router(db: Database, adagio: AdagioClient) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["PRESTO"])
    services = ConnectivityServices(db, adagio)

    @router.post("/lso-get-performance-measurements/")
    def get_performance_measurements(_caller: InternalDep, payload: Payload = None) -> MefResponse:
        data = (payload or {}).get("input", {})
        request = parse_model(ServiceRefInput, data if isinstance(data, dict) else None, "/input")
        doc = services.get(request.service_id_or_name)
        ends = [{"element": ep["element"], "port": ep["port"]} for ep in doc["endPoints"]]
        measured = []
        for a in ends:
            for z in ends:
                if a != z:  # ordered pairs: MEF 10.4 objectives hold per direction
                    measured.append(_measure(adagio, doc["id"], a, z))
        return MefResponse({"output": {"service-id": doc["id"], "measurement": measured}})

    return router


def _measure(adagio: AdagioClient, service_id: str, a: dict[str, str], z: dict[str, str]) -> dict[str, Any]:
    session_id = f"{service_id}:{a['element']}-{a['port']}:{z['element']}-{z['port']}"
    try:
        adagio.start_oam_session(session_id, {"serviceId": service_id, "aEnd": a, "zEnd": z})
        response = adagio.http.get(f"{AdagioClient.PREFIX}/oam-sessions/{session_id}")
    except AdagioError as exc:
        raise MefError(409, f"OAM session {session_id}: {exc.message}", code="conflict") from exc
    if response.status_code >= 400:
        raise MefError(409, f"OAM session {session_id} could not be read", code="conflict")
    measurement = response.json()["measurement"]
    return {
        "a-end": a,
        "z-end": z,
        "time": measurement["time"],
        "frame-delay-ms": measurement["frameDelayMs"],
        "frame-delay-variation-ms": measurement["frameDelayVariationMs"],
        "frame-loss-ratio": measurement["frameLossRatio"],
    }
