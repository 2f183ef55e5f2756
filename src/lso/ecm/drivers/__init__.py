"""The contract every ECM driver fulfils (``sim`` today, ``linux`` next), and the types ADAGIO carries.

A driver owns the elements of the domain: their inventory, the configuration each holds per service,
counters, alarms, service activation tests and OAM measurements, plus an admin side to inject faults and
impairments. Configuration is keyed by element + service id so applying it twice is harmless — ICM
relies on that to retry after a crash.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lso.mef.dates import now_iso

Document = dict[str, Any]


class DriverError(Exception):
    """An element refused an operation; ``status`` is the HTTP status ADAGIO answers with."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class BandwidthProfileFlow(_Model):
    cir: int = Field(ge=0, description="bit/s")
    cbs: int = Field(ge=0, description="bytes")
    eir: int = Field(default=0, ge=0, description="bit/s")
    ebs: int = Field(default=0, ge=0, description="bytes")


class UniPortConfiguration(_Model):
    port: str
    ceVlanIds: list[int] = Field(default_factory=list, description="empty = all-to-one")
    ingressBandwidthProfile: BandwidthProfileFlow
    sVlanId: int | None = Field(
        default=None, ge=1, le=4094, description="at an ENNI port: the S-VLAN ID of the OVC End Point"
    )


class ElementConfiguration(_Model):
    """What one element holds for one connectivity service: its UNIs and the neighbours it forwards to."""

    vni: int = Field(ge=1, le=16_777_215)
    uniPorts: list[UniPortConfiguration] = Field(default_factory=list)
    nniPeers: list[str] = Field(default_factory=list)


class ServicePort(_Model):
    element: str
    port: str


class Acceptance(_Model):
    """Service acceptance criteria of a test (Y.1564 SAC)."""

    frameDelayMs: float = 50.0
    frameDelayVariationMs: float = 10.0
    frameLossRatio: float = 0.001


class ServiceTestRequest(_Model):
    serviceId: str
    aEnd: ServicePort
    zEnd: ServicePort
    cir: int = Field(gt=0, description="bit/s")
    eir: int = Field(default=0, ge=0, description="bit/s")
    acceptance: Acceptance = Field(default_factory=Acceptance)


class CounterQuery(_Model):
    element: str
    serviceId: str | None = None
    port: str | None = None


class Impairment(_Model):
    extraDelayMs: float = Field(default=0.0, ge=0)
    lossRatio: float = Field(default=0.0, ge=0, le=1)


class Traffic(_Model):
    offeredBps: int = Field(ge=0)
    frameBytes: int = Field(default=1000, ge=64, le=9600)
    since: str | None = Field(default=None, description="when the offered load started (default: now)")


FaultKind = Literal["element", "port", "link"]


def service_test_answer(request: ServiceTestRequest, result: Document) -> Document:
    """What ADAGIO answers for a test: what was tested, the driver's result and when it completed."""
    return {
        "serviceId": request.serviceId,
        "aEnd": request.aEnd.model_dump(),
        "zEnd": request.zEnd.model_dump(),
        **result,
        "completedAt": now_iso(),
    }


PROBE_PERIOD_US = 10_000
"""The finest delay measurement frame period of a PM session: Δτ must be a multiple of it."""


class MeasurementProfile(_Model):
    """How a PM session measures one CoS (MEF 35.1): interval length, Δt and C for availability, the
    delay and IFDV bin lower bounds (µs) and the IFDV pair distance Δτ."""

    cosName: str
    intervalS: int = Field(gt=0, le=86_400)
    deltaTS: int = Field(gt=0)
    thresholdC: float = Field(ge=0, le=1)
    fdBinsUs: list[int] = Field(min_length=1, max_length=64)
    ifdvBinsUs: list[int] = Field(min_length=1, max_length=64)
    ifdvDeltaTauUs: int = Field(gt=0, le=60_000_000)

    @model_validator(mode="after")
    def _measurable(self) -> MeasurementProfile:
        if self.intervalS % self.deltaTS:
            raise ValueError("the measurement interval must be a whole number of Δt")
        if self.ifdvDeltaTauUs % PROBE_PERIOD_US:
            raise ValueError("Δτ must be a multiple of the 10 ms probe period")
        for bins in (self.fdBinsUs, self.ifdvBinsUs):
            if bins[0] != 0 or bins != sorted(set(bins)):
                raise ValueError("bins are increasing lower bounds starting at 0")
        return self


class OamSessionRequest(_Model):
    """A PM session between two ends of a service; ``profile`` (one per CoS) says what it measures and
    is kept with the session, so reading its intervals needs nothing more than the session id."""

    serviceId: str
    aEnd: ServicePort
    zEnd: ServicePort
    profile: list[MeasurementProfile] | None = None


class Driver(Protocol):
    def elements(self) -> list[Document]: ...

    def element(self, element_id: str) -> Document: ...

    def configure(
        self, element_id: str, service_id: str, config: ElementConfiguration
    ) -> tuple[Document, bool]:
        """Apply (or re-apply) a service's configuration; the flag says whether anything changed."""
        ...

    def unconfigure(self, element_id: str, service_id: str) -> None: ...

    def configurations(self, element_id: str) -> list[Document]: ...

    def configuration(self, element_id: str, service_id: str) -> Document: ...

    def counters(self, queries: list[CounterQuery]) -> list[Document]: ...

    def alarms(self, element_id: str | None, state: str | None) -> list[Document]: ...

    def run_test(self, request: ServiceTestRequest) -> Document: ...

    def measure(self, service_id: str, a_end: ServicePort, z_end: ServicePort) -> Document: ...

    def start_oam_session(self, session_id: str, request: OamSessionRequest) -> Document:
        """Open (or re-configure with new measurement profiles, one per CoS) a PM session; the
        profiles are persisted with it."""
        ...

    def oam_session(self, session_id: str) -> Document:
        """The session with a fresh measurement of its service between its two ends."""
        ...

    def oam_intervals(self, session_id: str, since: int | None) -> Document:
        """``{sessionId, profile, interval}``: the session's completed MEF 35.1 measurement intervals
        (per CoS, measured per the ``profile`` it holds) starting at or after ``since``."""
        ...

    def inject_fault(self, kind: FaultKind, target: str) -> Document: ...

    def clear_fault(self, kind: FaultKind, target: str) -> None: ...

    def impair(self, target: str, impairment: Impairment) -> Document: ...

    def clear_impairment(self, target: str) -> None: ...

    def set_commit_latency(self, seconds: float) -> None: ...

    def set_traffic(self, element_id: str, service_id: str, port: str, traffic: Traffic) -> Document: ...
