"""What a report needs and where it comes from (MEF 55.0.1 §10.4 steps 3 and 4).

A report over a timeframe needs one sample per granularity interval of each monitored service. Samples
are cached per service and interval: a second job or report over the same interval reads the cache; an
interval that is current (it ends now or later, within one granularity) and not cached is fetched from
ICM over PRESTO; an interval long past and never sampled is reported as missing rather than invented.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from lso.mef import runtime
from lso.mef.dates import iso
from lso.mef.store import Document, Store
from lso.sof import activation, records
from lso.sof.activation import fact

SAMPLES = Store("sof.measurement", "measurement")
RESULT_TYPE = "urn:lso:performance:carrier-ethernet-frame-performance"


@dataclass(frozen=True)
class Interval:
    start: float
    end: float

    @property
    def key(self) -> str:
        return f"{iso(_moment(self.start))}/{iso(_moment(self.end))}"


def _moment(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def connectivity_service(service: Document) -> str | None:
    """The ICM connectivity service that realises an EVC service (None for a UNI)."""
    value = fact(service, "connectivityService")
    return str(value) if value else None


def cached(session: Session, service_id: str, interval: Interval) -> Document | None:
    return SAMPLES.find(session, f"{service_id}@{interval.key}")


def sample(service_id: str, interval: Interval) -> Document:
    """The sample of ``interval``: from the cache, else measured now through ICM (then cached)."""
    db = runtime.current().db
    with db.read() as session:
        found = cached(session, service_id, interval)
        service = records.SERVICES.get(session, service_id)
    if found is not None:
        return found
    uuid = connectivity_service(service)
    measured = activation.presto().get_performance_measurements(uuid) if uuid else []
    doc = {
        "id": f"{service_id}@{interval.key}",
        "measurementStartDate": iso(_moment(interval.start)),
        "measurementEndDate": iso(_moment(interval.end)),
        "measurement": [_result(m) for m in measured],
    }
    with db.session() as session:
        if cached(session, service_id, interval) is None:
            SAMPLES.add(session, doc, parent_id=service_id)
    return doc


def _result(measured: dict[str, Any]) -> Document:
    """One ``ServiceSpecificResult``: a direction's one-way frame delay, delay variation and loss."""
    return {
        "@type": RESULT_TYPE,
        "fromEndPoint": _end(measured["a-end"]),
        "toEndPoint": _end(measured["z-end"]),
        "measuredAt": measured["time"],
        "oneWayFrameDelayMs": measured["frame-delay-ms"],
        "interFrameDelayVariationMs": measured["frame-delay-variation-ms"],
        "frameLossRatio": measured["frame-loss-ratio"],
    }


def _end(end: dict[str, str]) -> str:
    return f"{end['element']}/{end['port']}"


def intervals(start: float, end: float, granularity_s: float) -> list[Interval]:
    """The granularity intervals that tile [start, end) (the last one may be shorter)."""
    out = []
    moment = start
    while moment < end - 1e-6:
        out.append(Interval(moment, min(moment + granularity_s, end)))
        moment += granularity_s
    return out


def series(service_id: str, start: float, end: float, granularity_s: float, now: float) -> list[Document]:
    """The samples a report over [start, end) needs, fetching only the current interval when missing."""
    found = []
    for interval in intervals(start, end, granularity_s):
        with runtime.current().db.read() as session:
            hit = cached(session, service_id, interval)
        if hit is None and interval.end >= now - granularity_s:
            hit = sample(service_id, interval)
        if hit is not None:
            found.append(hit)
    return found
