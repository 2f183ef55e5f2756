"""Whether an EVC service keeps the promise of its SLS (MEF 55.0.1 §10.6 step 3).

The objectives come from the service's ``carrierEthernetServiceLevelSpecification`` (MEF 101, mapped by
BUS from the EPL product's ``carrierEthernetSls``). Every objective of every CoS Name is judged with the
MEF 10.4 metrics (``metrics.assess``) over stored measurement intervals (``measurements.py``), twice:

- over the **detection window** — the latest completed intervals covering the assessment period and at
  least one run of n Δt (so availability can change state in it), and never reaching back before a
  given moment (a reroute, a resolved degradation): whether the service performs as promised *now*.
  A degradation opens, and is resolved, on this verdict.
- over the **SLS period** so far (``startTime`` + k × ``timeDuration``): the contractual verdict, kept
  with the assessment for the record.

The additional end-to-end test (Y.1564, :func:`test_breaches`) reports mean delay and loss of a short
run; a mean above a delay objective means the percentile is above it too, and a loss above C in every Δt
means no Δt of it is available, so the test can show a miss; a test without a miss passes.
"""

from __future__ import annotations

import calendar
import math
from dataclasses import dataclass
from datetime import UTC, datetime

from lso.mef import runtime
from lso.mef.dates import parse
from lso.mef.store import Document
from lso.sof.assurance import measurements, metrics
from lso.sof.assurance.measurements import sls_of

_UNIT_S = {"SEC": 1, "MIN": 60, "HOUR": 3600, "DAY": 86_400, "WEEK": 604_800}
_UNIT_MONTHS = {"MONTH": 1, "YEAR": 12}
_DELAYS = ("oneWayFrameDelay", "oneWayMeanFrameDelay")


@dataclass(frozen=True)
class PairMeasurement:
    """One end-to-end test between two UNIs (``element/port``), as ICM reports it."""

    a_end: str
    z_end: str
    frame_delay_ms: float
    frame_delay_variation_ms: float
    frame_loss_ratio: float


@dataclass(frozen=True)
class Verdict:
    """An SLS judged over [start, end): the objectives missed, per ordered pair, and every result."""

    start: int
    end: int
    breach: list[Document]
    results: list[Document]

    def wire(self) -> Document:
        return {"start": self.start, "end": self.end, "met": not self.breach, "result": self.results}


def has_objectives(service: Document) -> bool:
    sls = sls_of(service)
    return sls is not None and bool(metrics.sls_objectives(sls))


def breaches(assessment: metrics.Assessment) -> list[Document]:
    """Every ordered pair whose value misses its objective, with both values (ms, % or a count); a group
    availability (§8.8.11) misses as a whole, with the sets of ordered pairs it names."""
    found: list[Document] = []
    for result in assessment.results:
        if result.met is not False:
            continue
        wire = result.wire()
        if result.objective.sets:
            found.append(
                {
                    "metric": wire["metric"],
                    "cosName": wire["cosName"],
                    "orderedPairSets": wire["orderedPairSets"],
                    "minimumNumberOfSetsAvailableK": wire["minimumNumberOfSetsAvailableK"],
                    "measured": round(wire["value"], 6),
                    "objective": wire["objective"],
                    "unit": wire["unit"],
                }
            )
            continue
        availability = result.objective.metric == "oneWayAvailability"
        for pair in wire["orderedPairs"]:
            value = pair["value"]
            if value is None or (value >= wire["objective"] if availability else value <= wire["objective"]):
                continue
            found.append(
                {
                    "metric": wire["metric"],
                    "cosName": wire["cosName"],
                    "aEnd": pair["from"],
                    "zEnd": pair["to"],
                    "measured": round(value, 6),
                    "objective": wire["objective"],
                    "unit": wire["unit"],
                }
            )
    return found


def judge(service: Document, start: int, end: int) -> Verdict:
    assessment = measurements.assess(service, start, end)
    return Verdict(start, end, breaches(assessment), [r.wire() for r in assessment.results])


def detection_window(service: Document, now: float, after: float | None = None) -> tuple[int, int] | None:
    """The detection window at ``now`` (see the module docstring); None while the intervals of it that
    ended do not yet cover a run of n Δt."""
    profiles = measurements.profiles_of(service)
    sls = sls_of(service) or {}
    runs = [o.cos.n * o.cos.delta_t_s for o in metrics.sls_objectives(sls)]
    step = max((p.interval_s for p in profiles.values()), default=1)
    span = max([runtime.current().settings.sls_period_s, *runs])
    end = math.floor(now / step) * step
    start = end - math.ceil(span / step) * step
    if after is not None:
        start = max(start, math.ceil(after / step) * step)
    # Shorter than a run of n Δt, availability could not change state in it: wait for more intervals.
    return (start, end) if end - start >= max([step, *runs]) else None


def sls_period(service: Document, now: float) -> tuple[int, int] | None:
    """[start of the SLS period that contains ``now``, now) rounded to interval bounds."""
    sls = sls_of(service) or {}
    duration = sls.get("timeDuration") or {}
    amount = int(duration.get("timeDurationValue") or 0)
    unit = str(duration.get("timeDurationUnits"))
    first = parse(str(sls["startTime"])).timestamp() if sls.get("startTime") else None
    if first is None or amount <= 0 or now < first or (unit not in _UNIT_S and unit not in _UNIT_MONTHS):
        return None
    if unit in _UNIT_S:
        length = amount * _UNIT_S[unit]
        begin = first + (now - first) // length * length
    else:
        months = amount * _UNIT_MONTHS[unit]
        origin, moment = datetime.fromtimestamp(first, UTC), datetime.fromtimestamp(now, UTC)
        elapsed = (moment.year - origin.year) * 12 + moment.month - origin.month
        begin = _add_months(origin, elapsed // months * months).timestamp()
        if begin > now:
            begin = _add_months(origin, (elapsed // months - 1) * months).timestamp()
    step = max((p.interval_s for p in measurements.profiles_of(service).values()), default=1)
    start, end = math.ceil(begin / step) * step, math.floor(now / step) * step
    return (start, end) if end > start else None


def _add_months(moment: datetime, months: int) -> datetime:
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def test_breaches(measured: list[PairMeasurement], service: Document) -> list[Document]:
    """Every (pair, delay or loss objective) the end-to-end test shows missed."""
    found: list[Document] = []
    for o in metrics.sls_objectives(sls_of(service) or {}):
        limit = (
            o.objective if o.metric in ("oneWayFrameLossRatio", "oneWayAvailability") else o.objective / 1000
        )
        for m in measured:
            value = {
                "oneWayFrameDelay": m.frame_delay_ms,
                "oneWayMeanFrameDelay": m.frame_delay_ms,
                "oneWayFrameLossRatio": m.frame_loss_ratio * 100,
            }.get(o.metric)
            if o.metric == "oneWayAvailability" and m.frame_loss_ratio > o.cos.threshold_c:
                value = 0.0  # every Δt of the test loses more than C: none of it is available
            if value is None:
                continue
            if value < limit if o.metric == "oneWayAvailability" else value > limit:
                unit = "ms" if o.metric in _DELAYS else "%"
                found.append(
                    {
                        "metric": o.metric,
                        "cosName": o.cos.cos_name,
                        "aEnd": m.a_end,
                        "zEnd": m.z_end,
                        "measured": round(value, 6),
                        "objective": limit,
                        "unit": unit,
                    }
                )
    return found
