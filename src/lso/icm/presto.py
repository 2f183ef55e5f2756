"""PRESTO (MEF 60 NRP) served by ICM: RESTCONF RPCs under /restconf/operations/<rpc>/.

Bodies are ``{"input": {...}}`` → ``{"output": {...}}`` with TAPI names. The ``lso-...`` RPCs extend
MEF 60 where SOF needs something it has no RPC for (docs/presto.md). Handlers are plain functions run in
FastAPI's thread pool because configuring elements is blocking HTTP to ECM.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import httpx
from fastapi import APIRouter, Body, Response
from pydantic import BaseModel, ConfigDict, Field

from lso.db import Database
from lso.icm import alarms, reroute, resources, tapi
from lso.icm.adagio_client import AdagioClient, AdagioError
from lso.icm.connectivity import ConnectivityServices
from lso.icm.tapi import CreateInput, ServiceRefInput, UpdateInput
from lso.icm.topology import LINKS, NODES, SIPS, free_mbps, shortest_route
from lso.mef.body import parse_model
from lso.mef.errors import Issue, MefError, not_found, unprocessable
from lso.mef.http import MefResponse
from lso.security.tokens import InternalDep

PREFIX = "/restconf/operations"

Payload = Annotated[dict[str, Any] | None, Body()]


class AllocateSipInput(BaseModel):
    site_id: str = Field(alias="site-id", min_length=1)
    allocation_key: str = Field(alias="allocation-key", min_length=1, max_length=256)
    port_speed: int = Field(alias="port-speed", gt=0, description="Mbit/s")
    s_vlan_id: int | None = Field(
        default=None, alias="s-vlan-id", ge=1, le=4094, description="at an ENNI: exactly this S-VLAN"
    )


class ReleaseSipInput(BaseModel):
    allocation_key: str = Field(alias="allocation-key", min_length=1)


class FeasibilityInput(BaseModel):
    site_a: str = Field(alias="site-a")
    site_z: str = Field(alias="site-z")
    capacity: int = Field(gt=0, description="bit/s")


class ActivationTestInput(ServiceRefInput):
    cir: int = Field(gt=0, description="bit/s")
    eir: int = Field(default=0, ge=0, description="bit/s")


class AlarmQueryInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    connectivityServiceId: str | None = None
    state: Literal["raised", "cleared"] | None = None


class RerouteInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    uuid: str = Field(min_length=1)
    avoidLink: list[str] = Field(default_factory=list, description="link ids, e.g. p-ldn--p-man")
    avoidCurrentPath: bool = False


def _input(payload: dict[str, Any] | None) -> dict[str, Any]:
    data = (payload or {}).get("input", {})
    if not isinstance(data, dict):
        raise MefError(400, "input must be an object", code="invalidBody")
    return data


def _output(output: dict[str, Any]) -> MefResponse:
    return MefResponse({"output": output})


def presto_router(db: Database, adagio: AdagioClient) -> APIRouter:
    services = ConnectivityServices(db, adagio)
    router = APIRouter(prefix=PREFIX, tags=["PRESTO"])

    @router.post("/create-connectivity-service/")
    def create_connectivity_service(_caller: InternalDep, payload: Payload = None) -> MefResponse:
        request = parse_model(CreateInput, _input(payload), "/input")
        return _output({"service": tapi.service(services.create(request))})

    @router.post("/delete-connectivity-service/")
    def delete_connectivity_service(_caller: InternalDep, payload: Payload = None) -> MefResponse:
        request = parse_model(ServiceRefInput, _input(payload), "/input")
        doc = services.delete(request.service_id_or_name)
        return _output({"service": tapi.service(doc)} if doc else {})

    @router.post("/get-connectivity-service-details/")
    def get_connectivity_service_details(_caller: InternalDep, payload: Payload = None) -> MefResponse:
        request = parse_model(ServiceRefInput, _input(payload), "/input")
        return _output({"service": tapi.service(services.get(request.service_id_or_name))})

    @router.post("/get-connectivity-service-list/")
    def get_connectivity_service_list(_caller: InternalDep, payload: Payload = None) -> MefResponse:
        return _output({"service": [tapi.service(doc) for doc in services.list()]})

    @router.post("/update-connectivity-service/")
    def update_connectivity_service(_caller: InternalDep, payload: Payload = None) -> MefResponse:
        request = parse_model(UpdateInput, _input(payload), "/input")
        return _output({"service": tapi.service(services.update(request))})

    @router.post("/get-topology-details/")
    def get_topology_details(_caller: InternalDep, payload: Payload = None) -> MefResponse:
        wanted = _input(payload).get("topology-id-or-name")
        if wanted not in (None, tapi.TOPOLOGY_UUID, "lso-provider-network"):
            raise not_found("topology", str(wanted))
        with db.read() as session:
            nodes, links = NODES.all(session), LINKS.all(session)
        return _output(
            {"topology": tapi.topology(nodes, links, {link["id"]: free_mbps(link) for link in links})}
        )

    @router.post("/get-service-interface-point-list/")
    def get_service_interface_point_list(_caller: InternalDep, payload: Payload = None) -> MefResponse:
        with db.read() as session:
            return _output({"sip": [tapi.sip(doc) for doc in SIPS.all(session)]})

    @router.post("/get-service-interface-point-details/")
    def get_service_interface_point_details(_caller: InternalDep, payload: Payload = None) -> MefResponse:
        ident = str(_input(payload).get("sip-id-or-name", ""))
        with db.read() as session:
            return _output({"sip": tapi.sip(SIPS.get(session, ident))})

    router.include_router(_extension_routes(db, services, adagio))
    return router


def _extension_routes(db: Database, services: ConnectivityServices, adagio: AdagioClient) -> APIRouter:
    router = APIRouter()

    @router.post("/lso-allocate-service-interface-point/")
    def allocate_sip(_caller: InternalDep, payload: Payload = None) -> MefResponse:
        request = parse_model(AllocateSipInput, _input(payload), "/input")
        with db.session(serialize=resources.LOCK) as session:
            sip = resources.allocate_sip(
                session, request.site_id, request.allocation_key, request.port_speed, request.s_vlan_id
            )
            return _output({"sip": tapi.sip(sip)})

    @router.post("/lso-release-service-interface-point/")
    def release_sip(_caller: InternalDep, payload: Payload = None) -> Response:
        request = parse_model(ReleaseSipInput, _input(payload), "/input")
        with db.session(serialize=resources.LOCK) as session:
            resources.release_sip(session, request.allocation_key)
        return _output({})

    @router.post("/lso-check-feasibility/")
    def check_feasibility(_caller: InternalDep, payload: Payload = None) -> MefResponse:
        request = parse_model(FeasibilityInput, _input(payload), "/input")
        return _output(_feasibility(db, request))

    @router.post("/lso-run-service-activation-test/")
    def run_service_activation_test(_caller: InternalDep, payload: Payload = None) -> MefResponse:
        request = parse_model(ActivationTestInput, _input(payload), "/input")
        doc = services.get(request.service_id_or_name)
        results = []
        for a, z in _pairs(doc):
            body = {"serviceId": doc["id"], "aEnd": a, "zEnd": z, "cir": request.cir, "eir": request.eir}
            try:
                result = adagio.run_test(body)
            except httpx.TimeoutException as exc:
                raise _test_set_unavailable(doc["id"], "ECM did not answer in time") from exc
            except AdagioError as exc:
                if exc.status >= 500:  # the test set busy or an element out of reach: SOF retries
                    raise _test_set_unavailable(doc["id"], exc.message) from exc
                raise MefError(
                    409, f"activation test of {doc['id']} failed: {exc.message}", code="conflict"
                ) from exc
            results.append(_test_output(a, z, result))
        return _output(
            {"service-id": doc["id"], "passed": all(r["passed"] for r in results), "result": results}
        )

    router.include_router(_assurance_routes(db, services))
    return router


def _assurance_routes(db: Database, services: ConnectivityServices) -> APIRouter:
    router = APIRouter()

    @router.post("/lso-get-alarms/")
    def get_alarms(_caller: InternalDep, payload: Payload = None) -> MefResponse:
        request = parse_model(AlarmQueryInput, _input(payload), "/input")
        return _output({"alarm": alarms.query(db, request.connectivityServiceId, request.state)})

    @router.post("/lso-reroute-connectivity-service/")
    def reroute_connectivity_service(_caller: InternalDep, payload: Payload = None) -> MefResponse:
        """Move the service (avoiding links or its current path) and answer it; 409 when no route is left."""
        request = parse_model(RerouteInput, _input(payload), "/input")
        doc = services.get(request.uuid)
        with db.read() as session:
            unknown = [i for i, link in enumerate(request.avoidLink) if LINKS.find(session, link) is None]
        if unknown:
            raise unprocessable(
                *(Issue(f"/input/avoidLink/{i}", "no such link", "invalidValue") for i in unknown)
            )
        key = reroute.request_key(doc, request.avoidLink, request.avoidCurrentPath)
        handle = reroute.start(doc["id"], key, request.avoidLink, request.avoidCurrentPath)
        result = handle.get_result()
        if result["outcome"] == reroute.NO_ROUTE:
            raise MefError(
                409, f"no other route with {doc['demandMbps']:g} Mbit/s free for {doc['id']}", code="conflict"
            )
        if result["outcome"] == reroute.FAILED:
            raise MefError(502, f"reroute of {doc['id']} failed: {result['reason']}", code="internalError")
        return _output({"service": tapi.service(services.get(doc["id"]))})

    return router


def _test_set_unavailable(service_id: str, reason: str) -> MefError:
    """A test that could not run yet is passing trouble (503, which SOF retries), not a failed test."""
    return MefError(
        503,
        f"activation test of {service_id} could not run yet: {reason}",
        code="serviceUnavailable",
        headers={"Retry-After": "5"},
    )


def _pairs(doc: dict[str, Any]) -> list[tuple[dict[str, str], dict[str, str]]]:
    ends = [{"element": ep["element"], "port": ep["port"]} for ep in doc["endPoints"]]
    return [(ends[i], ends[j]) for i in range(len(ends)) for j in range(i + 1, len(ends))]


def _test_output(a: dict[str, str], z: dict[str, str], result: dict[str, Any]) -> dict[str, Any]:
    performance = result["performanceTest"]
    return {
        "a-end": f"{a['element']}/{a['port']}",
        "z-end": f"{z['element']}/{z['port']}",
        "passed": result["passed"],
        "configuration-test": result["configurationTest"],
        "performance-test": {
            "frame-delay-ms": performance["frameDelayMs"],
            "frame-delay-variation-ms": performance["frameDelayVariationMs"],
            "frame-loss-ratio": performance["frameLossRatio"],
            "throughput-mbps": performance["throughputBps"] / 1_000_000,
            "passed": performance["passed"],
        },
    }


def _feasibility(db: Database, request: FeasibilityInput) -> dict[str, Any]:
    demand = request.capacity / 1_000_000
    with db.session() as session:
        sites = []
        elements = []
        for site_id in (request.site_a, request.site_z):
            on_net, free = resources.count_free_sips(session, site_id)
            sites.append({"site-id": site_id, "on-net": on_net, "free-uni-ports": free})
            element = next((n["id"] for n in NODES.all(session) if n.get("siteId") == site_id), None)
            elements.append(element)
        route = None
        if all(elements):
            route = shortest_route(session, str(elements[0]), str(elements[1]), demand)
    reason = None
    if not all(s["on-net"] for s in sites):
        reason = "a site is not on-net"
    elif not all(s["free-uni-ports"] for s in sites):
        reason = "no free UNI port at a site"
    elif route is None:
        reason = f"no route with {demand:g} Mbit/s free"
    return {
        "feasible": reason is None,
        "site": sites,
        "path-found": route is not None,
        "distance-km": route.distance_km if route else None,
        "hop-count": route.hop_count if route else None,
        "reason": reason,
    }
