"""SLS degradations and their resolution (MEF 55.0.1 §10.6 steps 3-6).

A degradation opens when an assessment finds the SLS broken; its resolution is a durable workflow keyed by
the degradation id: an additional end-to-end test, then rerouting (away from the whole current path, else
away from one link of it at a time, since the OAM sessions measure end to end, not per hop) with a
re-measurement after each move — the SLS judged over measurement intervals that started after the move,
waited for durably — until the SLS is met (``resolved``) or nothing helped
(``manualInterventionRequired``, which the periodic assessment keeps tracking until the SLS is met).

Every state change is recorded with its time in ``activity`` and reported to BUS over LEGATO: the service
carries an ``slsDegradation`` characteristic and SOF publishes ``serviceAttributeValueChangeEvent`` on its
service inventory hub (the Kylie event for a changed service attribute), in the change's transaction.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

from dbos import DBOS, SetWorkflowID
from dbos._error import DBOSMaxStepRetriesExceeded  # not exported by dbos itself
from sqlalchemy.orm import Session

from lso.mef import runtime
from lso.mef.dates import now_iso, parse
from lso.mef.notifications import dispatch, publish
from lso.mef.statemachine import StateMachine
from lso.mef.store import Document, Store
from lso.sof import records
from lso.sof.activation import fact, presto, remote_step
from lso.sof.assurance import measurements
from lso.sof.assurance.objectives import PairMeasurement, detection_window, judge, test_breaches
from lso.sof.configuration import EvcConfiguration
from lso.sof.presto_client import PrestoError

DEGRADATIONS = Store("sof.degradation", "degradation")
OPEN, TESTING, REMEDIATING = "open", "testing", "remediating"
RESOLVED, MANUAL = "resolved", "manualInterventionRequired"
STATES = StateMachine(
    "degradation",
    {
        OPEN: [TESTING, RESOLVED],
        TESTING: [REMEDIATING, RESOLVED, MANUAL],
        REMEDIATING: [RESOLVED, MANUAL],
        MANUAL: [RESOLVED],
    },
)
EVENT_TYPE = "serviceAttributeValueChangeEvent"
PARTNER = "partner"
"""The ``segment`` of a breach only the concatenation with a partner's share shows (``partner.py``)."""


def workflow_id(degradation_id: str) -> str:
    return f"sof-degradation:{degradation_id}"


def unresolved(session: Session, service_id: str) -> Document | None:
    """The service's degradation still being worked on or waiting for a person, if any."""
    return next((d for d in DEGRADATIONS.children(session, service_id) if d["state"] != RESOLVED), None)


def last_resolved(session: Session, service_id: str) -> float | None:
    """When the service's latest resolved degradation was resolved: the intervals before it are
    accounted for and do not open a new one."""
    dates = [d["resolvedDate"] for d in DEGRADATIONS.children(session, service_id) if d.get("resolvedDate")]
    return max((parse(d).timestamp() for d in dates), default=None)


def caused_by_partner(found: list[Document]) -> bool:
    """Every breach is the partner share's: the partner resolves it, not our network."""
    return bool(found) and all(b.get("segment") == PARTNER for b in found)


def test(service: Document) -> list[PairMeasurement]:
    """The additional end-to-end test (§10.6 step 3): ICM's Y.1564 test between every pair of UNIs."""
    bandwidth = EvcConfiguration.model_validate(service["serviceConfiguration"]).ingressBwp
    results = presto().run_service_activation_test(
        str(fact(service, "connectivityService")),
        bandwidth.cir.mbps,
        bandwidth.eir.mbps if bandwidth.eir else 0.0,
    )
    return [
        PairMeasurement(r.a_end, r.z_end, r.frame_delay_ms, r.frame_delay_variation_ms, r.frame_loss_ratio)
        for r in results
    ]


def _end(end: Any) -> str:
    return f"{end['element']}/{end['port']}" if isinstance(end, dict) else str(end)


@DBOS.step(name="sof.open_degradation")
def open_degradation(service_id: str, found: list[Document]) -> tuple[str, list[str]]:
    """Record the breach (the open one when a re-run step finds it already there); returns its id."""
    with runtime.current().db.session() as session:
        current = unresolved(session, service_id)
        if current is not None:
            return current["id"], []
        service = records.SERVICES.get(session, service_id)
        now = now_iso()
        degradation: Document = {
            "state": OPEN,
            "serviceId": service_id,
            "connectivityService": fact(service, "connectivityService"),
            "openedDate": now,
            "breach": found,
            "cause": PARTNER if caused_by_partner(found) else "own",
            "activity": [],
        }
        party = records.SERVICES.party_of(session, service_id)
        DEGRADATIONS.add(session, degradation, party=party, parent_id=service_id)
        _note(degradation, OPEN, describe(found))
        return degradation["id"], _report(session, degradation)


def resolve(degradation_id: str, resolution: Callable[[str], str] | None = None) -> str:
    """Run the degradation's resolution once (its workflow id is the degradation's) and wait for it:
    ours (test, reroute) unless ``resolution`` names another workflow (a partner's share, ``partner.py``)."""
    with SetWorkflowID(workflow_id(degradation_id)):
        handle = DBOS.start_workflow(resolution or resolve_degradation, degradation_id)
    return str(handle.get_result())


@DBOS.workflow(name="sof.resolve_degradation")
def resolve_degradation(degradation_id: str) -> str:
    dispatch(move(degradation_id, TESTING, "additional end-to-end test of every UNI pair"))
    try:
        return _test_and_remediate(degradation_id)
    except DBOSMaxStepRetriesExceeded as exc:  # ICM kept failing: a person has to look
        reason = exc.errors[-1] if exc.errors else exc
        dispatch(move(degradation_id, MANUAL, f"ICM did not answer ({reason}); a person must take over"))
        return MANUAL


def _test_and_remediate(degradation_id: str) -> str:
    if retest(degradation_id, "test", None):
        dispatch(move(degradation_id, RESOLVED, "the SLS is met again; no remediation needed"))
        return RESOLVED
    attempts = remediation_plan(degradation_id)
    dispatch(move(degradation_id, REMEDIATING, f"{len(attempts)} reroute(s) to try"))
    for attempt in attempts:
        moved_at = reroute(degradation_id, attempt)
        if moved_at is None:
            continue
        while (met := retest(degradation_id, "measure", moved_at)) is None:
            # about one measurement interval: until intervals measured on the new path have ended
            DBOS.sleep(runtime.current().settings.sls_period_s)
        if met:
            dispatch(move(degradation_id, RESOLVED, "the SLS is met on the new path"))
            return RESOLVED
    dispatch(move(degradation_id, MANUAL, "no reroute restored the SLS; a person must repair the network"))
    return MANUAL


@DBOS.step(name="sof.move_degradation")
def move(degradation_id: str, state: str, detail: str) -> list[str]:
    """Change the degradation's state, note why and when, and tell BUS; [] when it is already there."""
    return _move(degradation_id, state, detail)


@remote_step("sof.retest_degradation")
def retest(degradation_id: str, how: str, since: float | None) -> bool | None:
    """Test (``test``: the Y.1564 test) or measure (``measure``: the SLS over the detection window of
    intervals after ``since``) the service again; True when the SLS is met, None when no such interval
    has ended yet. The result is noted on the degradation."""
    with runtime.current().db.read() as session:
        degradation = DEGRADATIONS.get(session, degradation_id)
        service = records.SERVICES.get(session, degradation["serviceId"])
    try:
        if how == "test":
            found = test_breaches(test(service), service)
        else:
            now = time.time()
            measurements.collect(service, now)
            window = detection_window(service, now, after=since)
            if window is None:
                return None
            found = judge(service, *window).breach
        detail = describe(found) if found else "SLS met"
    except PrestoError as exc:
        if exc.status >= 500:
            raise
        found, detail = [{"metric": "measurement", "reason": exc.reason}], f"not measurable: {exc.reason}"
    record(degradation_id, "tested" if how == "test" else "measured", detail, {"breach": found})
    return not found


@DBOS.step(name="sof.plan_remediation")
def remediation_plan(degradation_id: str) -> list[dict[str, Any]]:
    """Away from the whole current path first; failing that, away from each of its links in turn."""
    with runtime.current().db.read() as session:
        degradation = DEGRADATIONS.get(session, degradation_id)
        service = records.SERVICES.get(session, degradation["serviceId"])
    path = [str(hop) for hop in fact(service, "path") or []]
    links = ["--".join(sorted(pair)) for pair in itertools.pairwise(path)]
    return [{"avoidCurrentPath": True}] + [{"avoidLink": [link]} for link in links]


@remote_step("sof.reroute_degradation")
def reroute(degradation_id: str, attempt: dict[str, Any]) -> float | None:
    """Ask ICM to move the connectivity service; returns when it moved, None (noted) when ICM finds no
    such path."""
    with runtime.current().db.read() as session:
        uuid = DEGRADATIONS.get(session, degradation_id)["connectivityService"]
    try:
        moved = presto().reroute_connectivity_service(
            uuid, attempt.get("avoidLink", ()), avoid_current_path=bool(attempt.get("avoidCurrentPath"))
        )
    except PrestoError as exc:
        if exc.status >= 500:
            raise
        record(degradation_id, "rerouteRefused", f"{_attempt(attempt)}: {exc.reason or exc.code}", {})
        return None
    with runtime.current().db.session() as session:
        degradation = DEGRADATIONS.get(session, degradation_id)
        service = records.SERVICES.get(session, degradation["serviceId"])
        records.characteristic(service, "path", list(moved.route))
        records.SERVICES.put(session, service)
    record(degradation_id, "rerouted", f"{_attempt(attempt)}: path {' > '.join(moved.route)}", {})
    return time.time()


@DBOS.step(name="sof.resolved_by_assessment")
def resolved_by_assessment(degradation_id: str) -> list[str]:
    """A degradation that needed a person is over once the periodic assessment finds the SLS met."""
    return _move(degradation_id, RESOLVED, "the periodic assessment finds the SLS met again")


def _move(degradation_id: str, state: str, detail: str) -> list[str]:
    with runtime.current().db.session() as session:
        degradation = DEGRADATIONS.get(session, degradation_id)
        if not STATES.move(degradation, state, history=None):
            return []
        if state == RESOLVED:
            degradation["resolvedDate"] = now_iso()
        _note(degradation, state, detail)
        return _report(session, degradation)


def record(degradation_id: str, step: str, detail: str, extra: Document) -> None:
    """Note a step of the resolution (with ``extra`` facts) on the degradation."""
    with runtime.current().db.session() as session:
        degradation = DEGRADATIONS.get(session, degradation_id)
        _note(degradation, step, detail, extra)
        DEGRADATIONS.put(session, degradation)


def _note(degradation: Document, step: str, detail: str, extra: Document | None = None) -> None:
    degradation["activity"].append({"date": now_iso(), "step": step, "detail": detail, **(extra or {})})


def _report(session: Session, degradation: Document) -> list[str]:
    """Store the degradation and show its status on the service for BUS (LEGATO, §10.6 step 6)."""
    DEGRADATIONS.put(session, degradation)
    service = records.SERVICES.get(session, degradation["serviceId"])
    summary = {
        "id": degradation["id"],
        "state": degradation["state"],
        "openedDate": degradation["openedDate"],
        "resolvedDate": degradation.get("resolvedDate"),
        "detail": degradation["activity"][-1]["detail"],
        "breach": degradation["breach"],
        "partnerTrouble": degradation.get("partnerTrouble"),
    }
    records.characteristic(service, "slsDegradation", {k: v for k, v in summary.items() if v is not None})
    records.SERVICES.put(session, service)
    return publish(
        session,
        records.INVENTORY_EVENTS,
        records.SERVICES.party_of(session, service["id"]),
        EVENT_TYPE,
        {"id": service["id"], "href": service["href"]},
        event_id=f"{service['id']}:sls:{degradation['id']}:{degradation['state']}",
    )


def describe(found: list[Document]) -> str:
    return "; ".join(
        f"{b['metric']} {b['cosName']} {b['aEnd']}→{b['zEnd']}: {b['measured']} {b.get('unit', '')}, "
        f"objective {b['objective']}"
        if "aEnd" in b
        else str(b)
        for b in found
    )


def _attempt(attempt: dict[str, Any]) -> str:
    if attempt.get("avoidCurrentPath"):
        return "avoiding the current path"
    return f"avoiding link {', '.join(attempt.get('avoidLink', []))}"
