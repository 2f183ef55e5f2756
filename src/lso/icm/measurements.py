"""PRESTO extensions for performance monitoring (MEF 55.0.1 §10.4 step 4, §10.6 step 1):

- ``lso-start-performance-monitoring`` opens the PM sessions of a connectivity service, one per ordered
  pair of its end points (MEF 10.4 objectives hold per direction), and gives them the measurement profile
  SOF chose (one per CoS). ECM persists the profile with each session, so it is sent once — when the
  service is activated or its SLS changes — not with every read.
- ``lso-get-performance-measurements`` answers the completed MEF 35.1 measurement intervals of those
  sessions, each pair with the profile its session measures by, so SOF sees when the sessions need its
  profile (a session never started answers no profile and no intervals).

Kept apart from presto.py so the assurance work does not touch the activation RPCs.
"""

from __future__ import annotations

from collections.abc import Callable
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


class MonitoringInput(ServiceRefInput):
    """``profile``: ADAGIO's PM session measurement profile, one per CoS (checked by ECM); without it the
    sessions are opened (or kept) as they are."""

    profile: list[dict[str, Any]] | None = None


class MeasurementsInput(ServiceRefInput):
    """Which intervals: those starting at or after ``since`` (epoch seconds)."""

    since: int | None = Field(default=None, ge=0)


def measurements_router(db: Database, adagio: AdagioClient) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["PRESTO"])
    services = ConnectivityServices(db, adagio)

    def per_session(service: str, key: str, each: Callable[[str, End, End], dict[str, Any]]) -> MefResponse:
        """``each`` for the PM session of every ordered pair of the service's end points."""
        doc = services.get(service)
        found = [each(doc["id"], a, z) for a, z in ordered_pairs(doc)]
        return MefResponse({"output": {"service-id": doc["id"], key: found}})

    @router.post("/lso-start-performance-monitoring/")
    def start_performance_monitoring(_caller: InternalDep, payload: Payload = None) -> MefResponse:
        request = parse_model(MonitoringInput, _input(payload), "/input")
        return per_session(
            request.service_id_or_name, "session", lambda s, a, z: _start(adagio, s, a, z, request.profile)
        )

    @router.post("/lso-get-performance-measurements/")
    def get_performance_measurements(_caller: InternalDep, payload: Payload = None) -> MefResponse:
        request = parse_model(MeasurementsInput, _input(payload), "/input")
        return per_session(
            request.service_id_or_name,
            "measurement",
            lambda s, a, z: _intervals(adagio, s, a, z, request.since),
        )

    return router


End = dict[str, str]


def ordered_pairs(doc: dict[str, Any]) -> list[tuple[End, End]]:
    ends = [{"element": ep["element"], "port": ep["port"]} for ep in doc["endPoints"]]
    return [(a, z) for a in ends for z in ends if a != z]


def _input(payload: dict[str, Any] | None) -> dict[str, Any] | None:
    data = (payload or {}).get("input", {})
    return data if isinstance(data, dict) else None


def _session_id(service_id: str, a: End, z: End) -> str:
    return f"{service_id}:{a['element']}-{a['port']}:{z['element']}-{z['port']}"


def _start(
    adagio: AdagioClient, service_id: str, a: End, z: End, profile: list[dict[str, Any]] | None
) -> dict[str, Any]:
    body: dict[str, Any] = {"serviceId": service_id, "aEnd": a, "zEnd": z}
    if profile is not None:
        body["profile"] = profile
    session_id = _session_id(service_id, a, z)
    try:
        return adagio.start_oam_session(session_id, body)
    except AdagioError as exc:
        if exc.status == 422:  # a profile ECM cannot measure by
            raise MefError(422, f"OAM session {session_id}: {exc.message}", code="invalidValue") from exc
        raise MefError(409, f"OAM session {session_id}: {exc.message}", code="conflict") from exc


def _intervals(adagio: AdagioClient, service_id: str, a: End, z: End, since: int | None) -> dict[str, Any]:
    session_id = _session_id(service_id, a, z)
    query = {} if since is None else {"since": since}
    response = adagio.http.get(f"{AdagioClient.PREFIX}/oam-sessions/{session_id}/intervals", params=query)
    if response.status_code == 404:
        return {"a-end": a, "z-end": z, "profile": [], "interval": []}
    if response.status_code >= 400:
        raise MefError(409, f"OAM session {session_id} intervals could not be read", code="conflict")
    answer = response.json()
    return {"a-end": a, "z-end": z, "profile": answer["profile"], "interval": answer["interval"]}
