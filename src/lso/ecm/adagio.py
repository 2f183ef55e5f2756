"""ADAGIO, the ICM → ECM interface (MEF leaves it open; docs/adagio.md defines ours), served at /adagio/v1.

Handlers are plain functions (FastAPI runs them in its thread pool) because the driver does blocking
database work; every driver refusal becomes a MEF error body.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from lso.ecm.drivers import (
    CounterQuery,
    Driver,
    DriverError,
    ElementConfiguration,
    FaultKind,
    Impairment,
    OamSessionRequest,
    ServiceTestRequest,
    Traffic,
)
from lso.mef.errors import MefError
from lso.mef.http import MefResponse, no_content
from lso.security.tokens import InternalDep

PREFIX = "/adagio/v1"
# What a 503 (an element or the test set busy or out of reach for now) asks the caller to wait.
RETRY_AFTER_S = 5


class CounterRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[CounterQuery]


class ServiceConfiguration(BaseModel):
    """A service's configuration on each element of its route, in the order to apply them."""

    model_config = ConfigDict(extra="forbid")
    elements: dict[str, ElementConfiguration]


class CommitLatency(BaseModel):
    model_config = ConfigDict(extra="forbid")
    milliseconds: int = Field(ge=0, le=60_000)


@contextmanager
def _refusals() -> Iterator[None]:
    try:
        yield
    except DriverError as exc:
        headers = {"Retry-After": str(RETRY_AFTER_S)} if exc.status == 503 else None
        raise MefError(exc.status, exc.message, code=exc.code, headers=headers) from exc


def adagio_router(driver: Driver) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["ADAGIO"])
    router.include_router(_inventory_routes(driver))
    router.include_router(_assurance_routes(driver))
    router.include_router(_admin_routes(driver))
    return router


def _inventory_routes(driver: Driver) -> APIRouter:
    router = APIRouter()

    @router.get("/elements")
    def list_elements(_caller: InternalDep) -> MefResponse:
        return MefResponse(driver.elements())

    @router.get("/elements/{element_id}")
    def get_element(element_id: str, _caller: InternalDep) -> MefResponse:
        with _refusals():
            return MefResponse(driver.element(element_id))

    @router.get("/elements/{element_id}/configurations")
    def list_configurations(element_id: str, _caller: InternalDep) -> MefResponse:
        with _refusals():
            return MefResponse(driver.configurations(element_id))

    @router.get("/elements/{element_id}/configurations/{service_id}")
    def get_configuration(element_id: str, service_id: str, _caller: InternalDep) -> MefResponse:
        with _refusals():
            return MefResponse(driver.configuration(element_id, service_id))

    @router.put("/elements/{element_id}/configurations/{service_id}")
    def put_configuration(
        element_id: str, service_id: str, config: ElementConfiguration, _caller: InternalDep
    ) -> MefResponse:
        """201 when the element did not hold this configuration, 200 when it already did (a retry)."""
        with _refusals():
            doc, changed = driver.configure(element_id, service_id, config)
        return MefResponse(doc, status_code=201 if changed else 200)

    @router.put("/configurations/{service_id}")
    def put_service_configuration(
        service_id: str, request: ServiceConfiguration, _caller: InternalDep
    ) -> MefResponse:
        """Every listed element's configuration of the service in one call, each applied as its own PUT
        would be: 201 when any element changed, 200 when each already held exactly this (a retry). At
        an element's refusal the call answers its error; the elements before it keep what they got."""
        applied, changed = {}, False
        with _refusals():
            for element_id, config in request.elements.items():
                applied[element_id], element_changed = driver.configure(element_id, service_id, config)
                changed = changed or element_changed
        return MefResponse({"elements": applied}, status_code=201 if changed else 200)

    @router.delete("/elements/{element_id}/configurations/{service_id}", status_code=204)
    def delete_configuration(element_id: str, service_id: str, _caller: InternalDep) -> Response:
        with _refusals():
            driver.unconfigure(element_id, service_id)
        return no_content()

    return router


def _assurance_routes(driver: Driver) -> APIRouter:
    router = APIRouter()

    @router.post("/counters/query")
    def query_counters(request: CounterRequest, _caller: InternalDep) -> MefResponse:
        with _refusals():
            return MefResponse({"counters": driver.counters(request.items)})

    @router.get("/alarms")
    def list_alarms(
        _caller: InternalDep, element: str | None = None, state: str | None = None
    ) -> MefResponse:
        return MefResponse(driver.alarms(element, state))

    @router.post("/tests")
    def run_test(request: ServiceTestRequest, _caller: InternalDep) -> MefResponse:
        with _refusals():
            return MefResponse(driver.run_test(request))

    @router.put("/oam-sessions/{session_id}")
    def start_oam_session(session_id: str, request: OamSessionRequest, _caller: InternalDep) -> MefResponse:
        with _refusals():
            return MefResponse(driver.start_oam_session(session_id, request))

    @router.get("/oam-sessions/{session_id}/intervals")
    def get_oam_intervals(session_id: str, _caller: InternalDep, since: int | None = None) -> MefResponse:
        """Completed measurement intervals (MEF 35.1) of the session from ``since`` (epoch seconds), with
        the profiles the session measures by (so the caller sees whether they are the ones it wants)."""
        with _refusals():
            return MefResponse(driver.oam_intervals(session_id, since))

    @router.get("/oam-sessions/{session_id}")
    def get_oam_session(session_id: str, _caller: InternalDep) -> MefResponse:
        with _refusals():
            return MefResponse(driver.oam_session(session_id))

    return router


def _admin_routes(driver: Driver) -> APIRouter:
    """Fault and impairment injection for tests and ``lso sim``; a real network has no such knobs."""
    router = APIRouter(prefix="/admin")

    @router.put("/faults/{kind}/{target:path}")
    def inject_fault(kind: FaultKind, target: str, _caller: InternalDep) -> MefResponse:
        with _refusals():
            return MefResponse(driver.inject_fault(kind, target))

    @router.delete("/faults/{kind}/{target:path}", status_code=204)
    def clear_fault(kind: FaultKind, target: str, _caller: InternalDep) -> Response:
        with _refusals():
            driver.clear_fault(kind, target)
        return no_content()

    @router.put("/impairments/{target}")
    def impair(target: str, impairment: Impairment, _caller: InternalDep) -> MefResponse:
        return MefResponse(driver.impair(target, impairment))

    @router.delete("/impairments/{target}", status_code=204)
    def clear_impairment(target: str, _caller: InternalDep) -> Response:
        driver.clear_impairment(target)
        return no_content()

    @router.put("/commit-latency")
    def set_commit_latency(latency: CommitLatency, _caller: InternalDep) -> MefResponse:
        driver.set_commit_latency(latency.milliseconds / 1000)
        return MefResponse(latency.model_dump())

    @router.put("/traffic/{element_id}/{service_id}/{port}")
    def set_traffic(
        element_id: str, service_id: str, port: str, traffic: Traffic, _caller: InternalDep
    ) -> MefResponse:
        with _refusals():
            return MefResponse(driver.set_traffic(element_id, service_id, port, traffic))

    return router
