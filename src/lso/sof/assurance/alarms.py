"""Alarms on services: ICM's alarms (raised from ECM faults) as Kylie alarmManagement alarms, per party.

ICM reports an alarm once with the connectivity services it affects; SOF keeps one alarm per ICM alarm
and party that may see an affected service (BUS that owns it, the customer it was ordered for), listing
only that party's services, so a party's alarm list pages and filters like any other resource list. The
alarm's href is the IRP's it is read on, hence not stored.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from lso.mef import runtime
from lso.mef.dates import iso, now_iso, parse
from lso.mef.errors import MefError
from lso.mef.notifications import NotificationApi, publish
from lso.mef.statemachine import StateMachine
from lso.mef.store import Document, Store
from lso.sof import activation, records
from lso.sof.assurance.access import IRPS, audience
from lso.sof.assurance.measurements import connectivity_service

ALARMS = Store("sof.alarm", "alarm")
# Kylie alarmManagement v3 offers buyers no acknowledge operation: the provider's operator acknowledges
# (:func:`acknowledge`, the admin API), SOF clears alarms as ICM does.
ALARM_STATES = StateMachine(
    "alarm", {"unAcknowledged": ["acknowledged", "cleared"], "acknowledged": ["cleared"]}
)
FAULT_SUMMARY_TYPE = "urn:lso:fault:service-alarm-summary"
_NAMESPACE = uuid.UUID("a3f1c9d2-6b1e-4d7a-9c3e-2e8f5b0d4a71")
_SEVERITIES = {"critical", "major", "minor", "warning", "indeterminate", "cleared"}
_CAUSES = {
    "linkDown": "lossOfSignal",
    "lossOfSignal": "lossOfSignal",
    "equipmentFailure": "equipmentMalfunction",
}


def base(irp: str) -> str:
    return f"/mefApi/{irp}/alarmManagement/v3"


def events(irp: str) -> NotificationApi:
    return NotificationApi(irp, "alarmNotification", "v3")


def as_served(alarm: Document, irp: str) -> Document:
    """The alarm as read on ``irp``: its href there."""
    return {**alarm, "href": f"{runtime.current().settings.base_url}{base(irp)}/alarm/{alarm['id']}"}


def refresh() -> list[str]:
    """Bring SOF's alarms up to date with ICM's; returns the deliveries of the events that raised."""
    return record(activation.presto().get_alarms())  # over HTTP, before any transaction is opened


def record(raised: list[Document]) -> list[str]:
    """Take ICM alarm records (as ``lso-get-alarms`` answers them, or as ICM's ``alarmRaised`` and
    ``alarmCleared`` events carry them) into SOF's alarms; returns the deliveries to dispatch."""
    ids: list[str] = []
    # ICM's event and a list refresh may record the same alarm at once: one at a time, so each finds
    # what the other added instead of adding it twice.
    with runtime.current().db.session(serialize=ALARMS.kind) as session:
        by_connectivity = _services_by_connectivity(session)
        for alarm in raised:
            affected = [
                by_connectivity[cs]
                for cs in alarm.get("affectedConnectivityService", [])
                if cs in by_connectivity
            ]
            parties: dict[str, list[Document]] = {}
            for service in affected:
                for party in audience(session, service):
                    parties.setdefault(party, []).append(service)
            for party, services in parties.items():
                ids += _upsert(session, alarm, party, services)
    return ids


def _services_by_connectivity(session: Session) -> dict[str, Document]:
    found = {}
    for service in records.SERVICES.all(session):
        uuid_ = connectivity_service(service)
        if uuid_:
            found[uuid_] = service
    return found


def _upsert(session: Session, raised: Document, party: str, services: list[Document]) -> list[str]:
    alarm_id = str(uuid.uuid5(_NAMESPACE, f"{raised['id']}:{party}"))
    current = ALARMS.find(session, alarm_id)
    cleared = raised.get("state") == "cleared"
    if current is None:
        alarm = _alarm(alarm_id, raised, services)
        if cleared:
            _clear(alarm, raised)
        ALARMS.add(session, alarm, party=party, parent_id=services[0]["id"])
        return _publish(session, party, "alarmCreateEvent", alarm, f"{alarm_id}:create")
    if cleared and current["state"] != "cleared":
        _clear(current, raised)
        ALARMS.put(session, current)
        return _publish(session, party, "alarmStateChangeEvent", current, f"{alarm_id}:cleared")
    return []


def acknowledge(alarm_id: str, operator: str, system: str) -> tuple[Document, list[str]]:
    """The operator has taken note of the alarm: it and its copies for the other parties (one ICM alarm)
    move to ``acknowledged``; returns the alarm and the deliveries to dispatch.

    Kylie's Alarm has no ack fields: who acknowledged, from where and when is a ``comment`` (its
    userIdentifier/systemIdentifier/time). Acknowledging again changes and announces nothing; a cleared
    alarm has nothing left to acknowledge (409).
    """
    ids: list[str] = []
    with runtime.current().db.session(serialize=ALARMS.kind) as session:  # not interleaved with a clear
        alarm = ALARMS.get(session, alarm_id)
        if alarm["state"] == "cleared":
            raise MefError(409, f"alarm {alarm_id} is cleared: nothing to acknowledge", code="conflict")
        copies, _ = ALARMS.list(
            session,
            party=None,
            filters={"externalAlarmId": alarm["externalAlarmId"]},
            offset=0,
            limit=100_000,
        )
        for copy in copies:
            if copy["state"] == "unAcknowledged":
                ids += _acknowledge(session, copy, operator, system)
        return ALARMS.get(session, alarm_id), ids


def _acknowledge(session: Session, alarm: Document, operator: str, system: str) -> list[str]:
    now = now_iso()
    ALARM_STATES.move(alarm, "acknowledged", history=None)
    alarm["alarmChangedTime"] = now
    note = {
        "description": "acknowledged",
        "userIdentifier": operator,
        "systemIdentifier": system,
        "time": now,
    }
    alarm.setdefault("comment", []).append(note)
    ALARMS.put(session, alarm)
    party = ALARMS.party_of(session, alarm["id"])
    assert party is not None, "every alarm is stored with the party it is for (_upsert)"
    # Kylie's alarmAcknowledgeEvent operation is the listener of alarmStateChangeEvent.
    return _publish(session, party, "alarmStateChangeEvent", alarm, f"{alarm['id']}:acknowledged")


def _alarm(alarm_id: str, raised: Document, services: list[Document]) -> Document:
    severity = str(raised.get("perceivedSeverity", "indeterminate")).lower()
    now = now_iso()
    return {
        "id": alarm_id,
        "externalAlarmId": raised["id"],
        "state": "unAcknowledged",
        "alarmType": "communicationsAlarm",
        "perceivedSeverity": severity if severity in _SEVERITIES else "indeterminate",
        "probableCause": _CAUSES.get(str(raised.get("probableCause")), "underlyingResourceUnavailable"),
        "alarmDetails": f"{raised.get('probableCause')} at {raised.get('source')}",
        "alarmRaisedTime": _normal(raised.get("raisedTime")) or now,
        "alarmReportingTime": now,
        "alarmChangedTime": now,
        "serviceAffecting": True,
        "isRootCause": True,
        "alarmedObjectType": "connectivityService",
        "alarmedObject": [
            {"id": cs, "@referredType": "ConnectivityService"}
            for cs in raised.get("affectedConnectivityService", [])
        ],
        "affectedService": [{"id": s["id"], "href": s["href"]} for s in services],
        "reportingSystemId": "sof",
        "sourceSystemId": str(raised.get("source") or "icm"),
    }


def _clear(alarm: Document, raised: Document) -> None:
    ALARM_STATES.move(alarm, "cleared", history=None)
    alarm["alarmClearedTime"] = _normal(raised.get("clearedTime")) or now_iso()
    alarm["alarmChangedTime"] = now_iso()


def _normal(text: Any) -> str | None:
    return iso(parse(text)) if isinstance(text, str) and text else None


def _publish(session: Session, party: str, event_type: str, alarm: Document, event_id: str) -> list[str]:
    """The event on every IRP's alarm hub of ``party`` (a party registers where it reads alarms)."""
    ids: list[str] = []
    for irp in IRPS:
        event = {"alarm": as_served(alarm, irp.name)}
        ids += publish(session, events(irp.name), party, event_type, event, f"{event_id}:{irp.name}")
    return ids


def report_content(service_id: str, start: float, end: float, monitored: Document) -> list[Document]:
    """A fault management report's content: the alarms on the service active during [start, end).

    Reads SOF's alarms as :func:`refresh` last left them (the job's workflow refreshes first)."""
    with runtime.current().db.read() as session:
        found = ALARMS.list(session, party=None, filters={}, offset=0, limit=100_000)[0]
    relevant = [
        a
        for a in found
        if any(s["id"] == service_id for s in a.get("affectedService", []))
        and parse(a["alarmRaisedTime"]).timestamp() < end
        and (a.get("alarmClearedTime") is None or parse(a["alarmClearedTime"]).timestamp() >= start)
    ]
    unique = {a["externalAlarmId"]: a for a in relevant}.values()
    summary: Document = {
        "@type": FAULT_SUMMARY_TYPE,
        "alarmCount": len(unique),
        "activeAlarmCount": sum(1 for a in unique if a["state"] != "cleared"),
        "alarm": [
            {
                "externalAlarmId": a["externalAlarmId"],
                "perceivedSeverity": a["perceivedSeverity"],
                "probableCause": a["probableCause"],
                "alarmRaisedTime": a["alarmRaisedTime"],
                "alarmClearedTime": a.get("alarmClearedTime"),
            }
            for a in unique
        ],
    }
    return [
        {
            "monitoredObject": monitored,
            "reportContentItem": [
                {
                    "measurementTime": {
                        "measurementStartDate": iso(_at(start)),
                        "measurementEndDate": iso(_at(end)),
                    },
                    "measurementData": [summary],
                }
            ],
        }
    ]


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
