"""SLS assessment (MEF 55.0.1 §10.6): a durable periodic workflow per active EVC service with an SLS.

Each run, one SLS period after the last (or after activation), fetches the measurement intervals ICM
has completed since the last one stored (PRESTO, step 1), judges every SLS objective over them with the
MEF 10.4 metrics (step 3, ``objectives.py``) — for an off-net EVC also over the concatenation with the
partner's share, read over INTERLUDE (step 1.2, ``partner.py``) — opens a degradation when they are
broken and waits for its resolution (steps 3-6: ``degradation.py`` for our segment, ``partner.py`` for the
partner's), and closes a degradation that waited for a person once the SLS is met again. Between runs the
workflow waits durably (``DBOS.recv``) for ``settings.sls_period_s``; a TCA or alarm pushed up from ICM,
or a report the partner pushes up over INTERLUDE (``partner_listener``), ends the wait at once
(:func:`trigger`).

The workflow id is the service's plus a generation: after ``RUNS_PER_GENERATION`` runs a workflow starts
its successor and ends, so no workflow's checkpoint history grows without bound. ``sof.slsAssessment``
keeps the current generation and the last assessment, so a restart resumes the right workflow and a
TCA reaches it. The assessment ends when the service is no longer active (terminated).
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field

from dbos import DBOS, SetWorkflowID
from dbos._error import DBOSMaxStepRetriesExceeded
from sqlalchemy.orm import Session

from lso.entity import EntityContext
from lso.mef import runtime
from lso.mef.dates import now_iso
from lso.mef.notifications import dispatch
from lso.mef.store import Document, Store
from lso.sof import activation, records
from lso.sof.assurance import degradation, measurements, partner, tca
from lso.sof.assurance.objectives import detection_window, has_objectives, judge, sls_period
from lso.sof.presto_client import PrestoError

ASSESSMENTS = Store("sof.slsAssessment", "slsAssessment")
RUNS_PER_GENERATION = 100
TCA_TOPIC = "tca"
ASSESSING, ENDED = "assessing", "ended"


@dataclass(frozen=True)
class Outcome:
    """What one run found: the service gone, the SLS met or broken (``judged``: every segment had
    measurements to judge), and the degradation still open."""

    active: bool
    breach: list[Document] = field(default_factory=list)
    judged: bool = False
    open_degradation: str | None = None
    open_degradation_state: str | None = None
    open_degradation_cause: str | None = None


def workflow_id(service_id: str, generation: int) -> str:
    return f"sof-sls:{service_id}:{generation}"


def assessable(service: Document) -> bool:
    return service.get("state") == "active" and has_objectives(service)


def watch(service_id: str) -> None:
    """Start the assessment of ``service_id`` unless it runs already (ids are business keys)."""
    with runtime.current().db.read() as session:
        record = ASSESSMENTS.find(session, service_id)
    if record is not None and record["state"] == ENDED:
        return
    _start(service_id, int(record["generation"]) if record else 0)


def _start(service_id: str, generation: int) -> None:
    with SetWorkflowID(workflow_id(service_id, generation)):
        DBOS.start_workflow(assess_service_level, service_id, generation)


def watch_order(order_id: str) -> None:
    """Assess every service a completed service order made that has an SLS.

    Called from the activation workflow: the services are new, so their first generation is started
    without reading the assessment record, which keeps the workflow deterministic when it is replayed."""
    with runtime.current().db.read() as session:
        order = records.ORDERS.get(session, order_id)
        ids = [activation.service_id(order_id, item["id"]) for item in order["serviceOrderItem"]]
        made = [s for s in (records.SERVICES.find(session, i) for i in ids) if s and assessable(s)]
    for service in made:
        _start(service["id"], 0)


def recover(_ctx: EntityContext) -> None:
    """At start: assess every active service with an SLS (a running assessment is not started twice)."""
    with runtime.current().db.read() as session:
        active, _ = records.SERVICES.list(
            session, party=None, filters={"state": "active", "serviceType": "EVC"}, offset=0, limit=100_000
        )
    for service in active:
        if has_objectives(service):
            watch(service["id"])


def trigger(service_id: str) -> bool:
    """A TCA or alarm concerns the service: run its assessment now. False when it is not assessed."""
    with runtime.current().db.read() as session:
        record = ASSESSMENTS.find(session, service_id)
    if record is None or record["state"] == ENDED:
        return False
    DBOS.send(workflow_id(service_id, int(record["generation"])), now_iso(), TCA_TOPIC)
    return True


def service_of_connectivity(session: Session, connectivity_uuid: str) -> str | None:
    """The EVC service SOF built on a PRESTO connectivity service (how an ICM event names it)."""
    found, _ = records.SERVICES.list(
        session,
        party=None,
        filters={"state": "active", "serviceType": "EVC"},
        offset=0,
        limit=100_000,
    )
    return next(
        (
            s["id"]
            for s in found
            if any(
                c["name"] == "connectivityService" and c["value"] == connectivity_uuid
                for c in s.get("serviceCharacteristic", [])
            )
        ),
        None,
    )


@DBOS.workflow(name="sof.assess_service_level")
def assess_service_level(service_id: str, generation: int) -> str:
    begin_generation(service_id, generation)
    period = between_runs_s()
    for _ in range(RUNS_PER_GENERATION):
        # A run judges the intervals ended since the last one: a service just made active has none yet, nor
        # has a generation just started (its predecessor ended with a run). So a run follows a wait.
        DBOS.recv(TCA_TOPIC, timeout_seconds=period)
        try:
            outcome = assess(service_id)
        except DBOSMaxStepRetriesExceeded:
            outcome = Outcome(active=True)  # ICM unreachable this time: try again next period
        if not outcome.active:
            # The partner unreachable after the retries: its job runs on until the partner ends it.
            with contextlib.suppress(DBOSMaxStepRetriesExceeded):
                partner.stop_monitoring(service_id)
            end(service_id)
            return ENDED
        if outcome.breach and outcome.open_degradation is None:
            degradation_id, deliveries = degradation.open_degradation(service_id, outcome.breach)
            dispatch(deliveries)
            try:
                detail = degradation.describe(outcome.breach)
                dispatch(tca.report_threshold_crossing(degradation_id, service_id, detail))
            except DBOSMaxStepRetriesExceeded:
                pass  # the customer misses the TCA report, not the remediation
            resolve(degradation_id, degradation.caused_by_partner(outcome.breach))
        elif outcome.open_degradation is not None and outcome.open_degradation_state == degradation.MANUAL:
            if outcome.judged and not outcome.breach:
                dispatch(degradation.resolved_by_assessment(outcome.open_degradation))
        elif outcome.open_degradation is not None:  # a crash stopped its resolution: finish it
            resolve(outcome.open_degradation, outcome.open_degradation_cause == degradation.PARTNER)
    _start(service_id, generation + 1)
    return "continued"


def between_runs_s() -> float:
    """How long a run waits for the next unless something pushed up (:func:`trigger`) ends the wait."""
    return runtime.current().settings.sls_period_s


def resolve(degradation_id: str, partners: bool) -> str:
    """A breach of our segment is resolved in our network; one of the partner's share by the partner."""
    return degradation.resolve(degradation_id, partner.resolve_partner_degradation if partners else None)


@DBOS.step(name="sof.begin_sls_generation")
def begin_generation(service_id: str, generation: int) -> None:
    """Record the generation; for a new service also ask the partner of an off-net EVC for its share's
    reports now, so that they cover the first period (the first run comes at its end)."""
    with runtime.current().db.session() as session:
        record = ASSESSMENTS.find(session, service_id)
        if record is None:
            party = records.SERVICES.party_of(session, service_id)
            ASSESSMENTS.add(
                session,
                {"id": service_id, "state": ASSESSING, "generation": generation, "since": now_iso()},
                party=party,
                parent_id=service_id,
            )
        elif int(record["generation"]) < generation:
            ASSESSMENTS.put(session, {**record, "generation": generation})
        service = records.SERVICES.get(session, service_id)
    if generation == 0 and assessable(service):
        partner.follow(service)


@activation.remote_step("sof.assess_sls")
def assess(service_id: str) -> Outcome:
    """Fetch the new intervals and judge the SLS over the detection window (the verdict that opens a
    degradation) and over the SLS period so far; both are kept as the last assessment. When our
    segment meets the SLS, an off-net EVC is judged on the concatenation with the partner's share."""
    with runtime.current().db.read() as session:
        service = records.SERVICES.get(session, service_id)
        current = degradation.unresolved(session, service_id)
        resolved_at = degradation.last_resolved(session, service_id)
    if not assessable(service):
        return Outcome(active=False)
    now = time.time()
    found: list[Document] = []
    judged = False
    try:
        measurements.collect(service, now)
        window = detection_window(service, now, after=resolved_at)
        last: Document = {"verdict": "waiting"}  # no interval since the last resolution has ended yet
        if window is None:
            partner.follow(service)  # the partner reports (and pushes) from the first run
        else:
            recent = judge(service, *window)
            found, judged = recent.breach, True
            share = partner.partner_breaches(service, window, recent.results)
            if "share" in share:
                last["partnerShare"] = share["share"]
                judged = share["share"]["verdict"] in ("met", "breached")
            found = found or share["breach"]
            last |= {"verdict": "breached" if found else "met", "window": recent.wire(), "breach": found}
        period = sls_period(service, now)
        if period is not None:
            last["slsPeriod"] = judge(service, *period).wire()
    except PrestoError as exc:
        if exc.status >= 500:
            raise
        found, last = [], {"verdict": "error", "error": exc.reason or exc.code}  # nothing measured
    with runtime.current().db.session() as session:
        record = ASSESSMENTS.get(session, service_id)
        record["lastAssessment"] = {"date": now_iso(), **last}
        record["runs"] = int(record.get("runs", 0)) + 1
        ASSESSMENTS.put(session, record)
    return Outcome(
        active=True,
        breach=found,
        judged=judged,
        open_degradation=current["id"] if current else None,
        open_degradation_state=current["state"] if current else None,
        open_degradation_cause=current.get("cause") if current else None,
    )


@DBOS.step(name="sof.end_sls_assessment")
def end(service_id: str) -> None:
    with runtime.current().db.session() as session:
        record = ASSESSMENTS.get(session, service_id)
        ASSESSMENTS.put(session, {**record, "state": ENDED, "ended": now_iso()})
