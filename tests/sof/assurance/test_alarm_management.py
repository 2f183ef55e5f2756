"""Alarms and fault management reports on a customer's EPL: a link fault injected in the network (ADAGIO
admin) shows as an alarm on the service over ALLEGRO, is announced on the alarm hub, and is cleared."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from tests.harness import subscribed, wait_until
from tests.sof.assurance.assurance import ALLEGRO_ALARMS, ALLEGRO_FM, SSC, customer_epl, duration
from tests.sof.orders import INVENTORY
from tests.sof.test_activation import characteristic

LEGATO_ALARMS = "/mefApi/legato/alarmManagement/v3"
INTERLUDE_ALARMS = "/mefApi/interlude/alarmManagement/v3"


@pytest.fixture
def epl(bus: httpx.Client) -> str:
    return customer_epl(bus, "acme")


@contextmanager
def link_fault(bus: httpx.Client, icm: httpx.Client, service_id: str) -> Iterator[None]:
    """A fault on the first link of the service's path (ADAGIO admin), repaired when the block ends."""
    path = characteristic(bus.get(f"{INVENTORY}/service/{service_id}").json(), "path")
    link = "--".join(sorted(path[:2]))
    assert icm.put(f"/adagio/v1/admin/faults/link/{link}").status_code == 200
    try:
        yield
    finally:
        icm.delete(f"/adagio/v1/admin/faults/link/{link}")


def _alarms_on(client: httpx.Client, base: str, service_id: str) -> list[dict[str, Any]]:
    answer = client.get(f"{base}/alarm", params={"affectedServiceId": service_id})
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()
    return found


def test_a_link_fault_raises_an_alarm_on_the_customers_service(
    acme: httpx.Client, globex: httpx.Client, bus: httpx.Client, icm: httpx.Client, epl: str
) -> None:
    with subscribed(acme, ALLEGRO_ALARMS) as listener:
        with link_fault(bus, icm, epl):
            raised = wait_until(lambda: _alarms_on(acme, ALLEGRO_ALARMS, epl))
            alarm = raised[0]
            assert alarm["state"] == "unAcknowledged"
            assert alarm["serviceAffecting"] is True
            assert alarm["probableCause"] == "lossOfSignal"
            assert acme.get(f"{ALLEGRO_ALARMS}/alarm/{alarm['id']}").json()["id"] == alarm["id"]
            created = wait_until(lambda: listener.received("alarmCreateEvent"))
            assert created[0]["event"]["alarm"]["id"] == alarm["id"]
            assert _alarms_on(globex, ALLEGRO_ALARMS, epl) == []
            assert globex.get(f"{ALLEGRO_ALARMS}/alarm/{alarm['id']}").status_code == 404
            assert _alarms_on(bus, LEGATO_ALARMS, epl), "BUS sees the alarm on LEGATO too"
            assert _alarms_on(acme, INTERLUDE_ALARMS, epl)[0]["href"].endswith(f"/alarm/{alarm['id']}")

        def cleared() -> bool:
            return acme.get(f"{ALLEGRO_ALARMS}/alarm/{alarm['id']}").json()["state"] == "cleared"

        assert wait_until(cleared)
        assert wait_until(lambda: listener.received("alarmStateChangeEvent"))


def test_alarm_events_reach_the_customer_as_they_happen(
    acme: httpx.Client, bus: httpx.Client, icm: httpx.Client, epl: str
) -> None:
    """Nobody reads the alarm list here: the events come from ICM's alarmRaised/alarmCleared alone."""

    def on_epl(event_type: str) -> list[dict[str, Any]]:
        return [
            e
            for e in listener.received(event_type)
            if any(s["id"] == epl for s in e["event"]["alarm"]["affectedService"])
        ]

    with subscribed(acme, ALLEGRO_ALARMS) as listener:
        with link_fault(bus, icm, epl):
            created = wait_until(lambda: on_epl("alarmCreateEvent"))
        alarm = created[0]["event"]["alarm"]
        assert alarm["state"] == "unAcknowledged"
        assert alarm["href"].endswith(f"{ALLEGRO_ALARMS}/alarm/{alarm['id']}")
        changed = wait_until(lambda: on_epl("alarmStateChangeEvent"))
        assert changed[0]["event"]["alarm"]["id"] == alarm["id"]
        assert changed[0]["event"]["alarm"]["state"] == "cleared"
        assert len(on_epl("alarmCreateEvent")) == 1, "one event per alarm, however often ICM tells"


def _fm_job(service_id: str, job_type: str = "on-demand") -> dict[str, Any]:
    return {
        "monitoredObject": {"@type": "ServiceRef", "serviceId": service_id},
        "scheduleDefinition": {},
        "granularity": duration(1),
        "reportingPeriod": duration(1),
        "jobType": job_type,
        "outputFormat": "json",
        "resultFormat": "payload",
        "serviceSpecificConfiguration": SSC,
    }


def test_a_fault_management_report_lists_the_alarms_of_its_period(
    acme: httpx.Client, bus: httpx.Client, icm: httpx.Client, epl: str
) -> None:
    with link_fault(bus, icm, epl):
        wait_until(lambda: _alarms_on(acme, ALLEGRO_ALARMS, epl))
        created = acme.post(f"{ALLEGRO_FM}/faultManagementJob", json=_fm_job(epl))
        assert created.status_code == 201, created.text
        job = created.json()

        def report() -> dict[str, Any] | None:
            found = acme.get(
                f"{ALLEGRO_FM}/faultManagementReport", params={"faultManagementJobId": job["id"]}
            )
            reports: list[dict[str, Any]] = found.json()
            return reports[0] if reports else None

        done = wait_until(report)
    assert done["state"] == "completed"
    summary = done["reportContent"][0]["reportContentItem"][0]["measurementData"][0]
    assert summary["alarmCount"] >= 1 and summary["activeAlarmCount"] >= 1
    assert acme.get(f"{ALLEGRO_FM}/faultManagementJob/{job['id']}").json()["state"] == "completed"


def test_a_bad_fault_management_job_is_refused(acme: httpx.Client, epl: str) -> None:
    body = _fm_job(epl)
    del body["reportingPeriod"]

    answer = acme.post(f"{ALLEGRO_FM}/faultManagementJob", json=body)

    assert answer.status_code == 422
    assert answer.json()[0]["propertyPath"] == "/reportingPeriod"
