"""Measurement intervals of a service: what SOF asks the network to measure, how it fetches what it has not
stored yet, and what the stored series say over a period (MEF 55.0.1 §10.4 steps 3 and 4, §10.6 step 1).

- **What to measure.** One MEF 35.1 measurement profile per CoS Name (:func:`profiles_of`): the SLS's
  Δt and C, delay bins with a bound at every frame delay objective + 1 µs and IFDV bins at every IFDV
  objective (``MeasurementProfile.for_objectives``, so "d(P) ≤ objective" is decided exactly), the SLS's
  Δτ. The interval length is the SLS assessment period rounded up to a whole number of Δt (at most 15
  min, the MEF 35.1 interval); a CoS without an SLS entry is measured with Δt = 1 s and C = 0.5.
- **Fetching.** The series store (``series.py``) is the cache: :func:`collect` asks ICM over PRESTO
  (``lso-get-performance-measurements`` with ``since``) only for the intervals after the latest one
  stored, and ingests them. The profiles reach the PM sessions once, through
  ``lso-start-performance-monitoring``, when the sessions answer with other ones (or none). A series is
  keyed by the end points as the network names them (``element/port``).
- **Periods.** A period [start, end) is measured by the intervals that ended in it: those starting in
  [⌊start⌋, ⌊end⌋) rounded down to interval bounds (:func:`aligned`), so an interval is reported once,
  in the period in which it became available.
- **SLS end points.** An SLS names its ordered pairs with its own end point names; a name that is not an
  ``element/port`` of the service is given to the service's end points in order — the first name the SLS
  mentions is the first end point ICM lists (:func:`sls_view`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np

from lso.mef import runtime
from lso.mef.dates import iso
from lso.mef.store import Document
from lso.sof import activation, records
from lso.sof.activation import fact
from lso.sof.assurance import measurement_store, metrics, series
from lso.sof.assurance.intervals import measure_series
from lso.sof.assurance.series import IntervalSeries, MeasurementProfile, SeriesKey

RESULT_TYPE = "urn:lso:performance:carrier-ethernet-frame-performance"
LOOK_BACK_INTERVALS = 96
"""How far back a first fetch reaches (ECM keeps as many completed intervals readable)."""
MAX_INTERVAL_S = 900
DEFAULT_DELTA_T_S, DEFAULT_C = 1, 0.5
PROBE_PERIOD_US = 10_000  # ECM's delay measurement frames are 10 ms apart: Δτ is a multiple of it


@dataclass(frozen=True)
class Interval:
    start: float
    end: float


def _moment(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def connectivity_service(service: Document) -> str | None:
    """The ICM connectivity service that realises an EVC service (None for a UNI)."""
    value = fact(service, "connectivityService")
    return str(value) if value else None


def sls_of(service: Document) -> Document | None:
    sls = (service.get("serviceConfiguration") or {}).get("carrierEthernetServiceLevelSpecification")
    return sls if isinstance(sls, dict) else None


def interval_length(delta_t_s: int) -> int:
    """The measurement interval: the assessment period as a whole number of Δt that divides a day."""
    base = min(MAX_INTERVAL_S, max(1.0, runtime.current().settings.sls_period_s))
    length = max(1, math.ceil(base / delta_t_s)) * delta_t_s
    while series.DAY_S % length:
        length += delta_t_s
    return length


def profiles_of(service: Document) -> dict[str, MeasurementProfile]:
    """The measurement profile of every CoS Name of the service (SLS entries first)."""
    sls = sls_of(service)
    objectives = metrics.sls_objectives(sls) if sls else []
    found: dict[str, MeasurementProfile] = {}
    for o in objectives:
        if o.cos.cos_name in found:
            continue
        same = [x for x in objectives if x.cos == o.cos]
        tau = next((x.delta_tau_us for x in same if x.delta_tau_us), 1_000_000)
        found[o.cos.cos_name] = MeasurementProfile.for_objectives(
            interval_length(o.cos.delta_t_s),
            o.cos.delta_t_s,
            o.cos.threshold_c,
            fd_objectives_us=[round(x.objective) for x in same if x.metric == "oneWayFrameDelay"],
            ifdv_objectives_us=[
                round(x.objective) for x in same if x.metric == "oneWayInterFrameDelayVariation"
            ],
            ifdv_delta_tau_us=max(1, round(tau / PROBE_PERIOD_US)) * PROBE_PERIOD_US,
        )
    for cos_name in (service.get("serviceConfiguration") or {}).get("listOfCosNames") or []:
        if cos_name not in found:
            found[cos_name] = MeasurementProfile(
                interval_length(DEFAULT_DELTA_T_S), DEFAULT_DELTA_T_S, DEFAULT_C
            )
    return found


def wire(profiles: dict[str, MeasurementProfile]) -> list[Document]:
    """Profiles per CoS Name as PRESTO ``lso-start-performance-monitoring`` and ADAGIO's PM sessions take
    them (sent at activation, so the service is measured by them from then on, and by :func:`collect`)."""
    return [
        {
            "cosName": cos_name,
            "intervalS": profile.interval_s,
            "deltaTS": profile.delta_t_s,
            "thresholdC": profile.threshold_c,
            "fdBinsUs": list(profile.fd_bins_us),
            "ifdvBinsUs": list(profile.ifdv_bins_us),
            "ifdvDeltaTauUs": profile.ifdv_delta_tau_us,
        }
        for cos_name, profile in profiles.items()
    ]


_COUNTERS = (
    "start",
    "offered",
    "delivered",
    "fd_sum_us",
    "fd_min_us",
    "fd_max_us",
    "ifdv_max_us",
    "ifdv_straddling_max_us",
)


def record_of(profile: MeasurementProfile, interval: Document) -> np.ndarray:
    """One interval record as ICM reports it (the fields of ``series.interval_dtype``) → a record."""
    record = series.empty(profile, 1)
    for name in _COUNTERS:
        record[name] = int(interval[name])
    for name in ("fd_bins", "ifdv_bins", "ifdv_straddling_bins"):
        record[name][0] = interval[name]
    packed = np.packbits(np.asarray(interval["high_loss"], dtype=bool), bitorder="little")
    record["high_loss"][0, : len(packed)] = packed
    return record


def _end(end: dict[str, str]) -> str:
    return f"{end['element']}/{end['port']}"


def collect(service: Document, now: float) -> int:
    """Fetch from ICM the intervals of ``service`` completed after the latest one stored, and store
    them; returns how many were stored."""
    uuid = connectivity_service(service)
    profiles = profiles_of(service)
    if uuid is None or not profiles:
        return 0
    longest = max(p.interval_s for p in profiles.values())
    db = runtime.current().db
    with db.read() as session:
        known = measurement_store.read_service(
            session, service["id"], int(now) - LOOK_BACK_INTERVALS * longest, int(now) + longest
        )
    # From the end of the series that is furthest behind: a later part replaces a record fetched twice.
    since = min((int(s.records["start"][-1]) + s.profile.interval_s for s in known), default=None)
    measured = _measured(uuid, wire(profiles), since)
    batches: dict[str, list[tuple[SeriesKey, np.ndarray]]] = {}
    for pair in measured:
        for interval in pair["interval"]:
            cos_name = interval["cosName"]
            if cos_name not in profiles:
                continue
            key = SeriesKey(service["id"], _end(pair["a-end"]), _end(pair["z-end"]), cos_name)
            batches.setdefault(cos_name, []).append((key, record_of(profiles[cos_name], interval)))
    written = 0
    with db.session() as session:
        for cos_name, batch in batches.items():
            written += measurement_store.ingest(session, profiles[cos_name], batch)
    return written


def _measured(uuid: str, profiles: list[Document], since: int | None) -> list[Document]:
    """The sessions' intervals since ``since``, once the sessions measure by ``profiles``: they are given
    to the sessions only when these measure by others (or none: opened before activation sent them, or
    the SLS changed); otherwise a fetch carries nothing but ``since``."""
    presto = activation.presto()
    measured = presto.get_performance_measurements(uuid, since)
    if all(pair.get("profile") == profiles for pair in measured):
        return measured
    presto.start_performance_monitoring(uuid, profiles)
    return presto.get_performance_measurements(uuid, since)


def aligned(start: float, end: float, interval_s: int) -> tuple[int, int]:
    """The interval starts [a, b) whose intervals ended in the period [start, end)."""
    return math.floor(start / interval_s) * interval_s, math.floor(end / interval_s) * interval_s


def stored(service_id: str, start: int, end: int) -> list[IntervalSeries]:
    with runtime.current().db.read() as session:
        return measurement_store.read_service(session, service_id, start, end)


def sls_view(service: Document, found: list[IntervalSeries]) -> list[IntervalSeries]:
    """The series renamed to the SLS's end point names (see the module docstring)."""
    sls = sls_of(service) or {}
    names = list(dict.fromkeys(n for o in metrics.sls_objectives(sls) for pair in o.pairs for n in pair))
    ends = list(dict.fromkeys(e for one in found for e in (one.key.source, one.key.sink)))
    unnamed = [n for n in names if n not in ends]
    free = [e for e in ends if e not in names]
    rename = dict(zip(free, unnamed, strict=False))
    return [
        replace(
            one,
            key=replace(
                one.key,
                source=rename.get(one.key.source, one.key.source),
                sink=rename.get(one.key.sink, one.key.sink),
            ),
        )
        for one in found
    ]


def assess(service: Document, start: int, end: int) -> metrics.Assessment:
    """Every objective of the service's SLS over [start, end) (aligned), from the stored series."""
    found = sls_view(service, stored(service["id"], start, end))
    return metrics.assess(found, sls_of(service) or {}, start, end)


def sample(service_id: str, interval: Interval) -> Document:
    """The measurements of one report interval, fetching what is not stored yet when it is recent."""
    return report_series(service_id, interval.start, interval.end, interval.end - interval.start)[0]


def report_series(service_id: str, start: float, end: float, granularity_s: float) -> list[Document]:
    """One entry per granularity interval of [start, end): the MEF 10.4 values of every ordered pair
    and CoS over the measurement intervals that ended in it (empty ``measurement`` when none did)."""
    with runtime.current().db.read() as session:
        service = records.SERVICES.get(session, service_id)
    profiles = profiles_of(service)
    now = time.time()
    if profiles and end >= now - LOOK_BACK_INTERVALS * min(p.interval_s for p in profiles.values()):
        collect(service, now)
    step = max(p.interval_s for p in profiles.values()) if profiles else 1
    first, last = aligned(start, end, step)
    found = stored(service_id, first - step, last + step)
    n_of = {o.cos.cos_name: o.cos.n for o in metrics.sls_objectives(sls_of(service) or {})}
    out = []
    moment = start
    while moment < end - 1e-6:
        until = min(moment + granularity_s, end)
        items = []
        for one in found:
            a, b = aligned(moment, until, one.profile.interval_s)
            if b > a:
                items += _values(one, a, b, n_of.get(one.key.cos_name, 1))
        out.append(
            {
                "measurementStartDate": iso(_moment(moment)),
                "measurementEndDate": iso(_moment(until)),
                "measurement": items,
            }
        )
        moment += granularity_s
    return out


def _values(one: IntervalSeries, start: int, end: int, n: int) -> list[Document]:
    """The MEF 10.4 values of one series over [start, end): a ``ServiceSpecificResult``."""
    inside = int(((one.records["start"] >= start) & (one.records["start"] < end)).sum())
    if not inside:
        return []
    m = measure_series(one, n, start, end, ())
    mean = metrics.mean_frame_delay(m)[0]
    loss = metrics.frame_loss_ratio(m)[0]
    available = metrics.availability(m)[0]
    delayed = not np.isnan(mean)
    return [
        {
            "@type": RESULT_TYPE,
            "fromEndPoint": one.key.source,
            "toEndPoint": one.key.sink,
            "cosName": one.key.cos_name,
            "measurementIntervals": inside,
            "framesOffered": int(m.frames_offered[0]),
            "framesDelivered": int(m.frames_delivered[0]),
            "oneWayMeanFrameDelayMs": round(float(mean) / 1000, 4) if delayed else None,
            "oneWayMinimumFrameDelayMs": int(m.delay_min_us[0]) / 1000 if delayed else None,
            "oneWayMaximumFrameDelayMs": int(m.delay_max_us[0]) / 1000 if delayed else None,
            "oneWayMaximumInterFrameDelayVariationMs": int(m.ifdv_max_us[0]) / 1000,
            "frameLossRatio": None if np.isnan(loss) else round(float(loss), 6),
            "availabilityPercent": None if np.isnan(available) else round(float(available) * 100, 4),
            "highLossIntervals": int(m.high_loss_intervals[0]),
        }
    ]
