"""The provider's operator acknowledges an alarm (``lso alarm ack``): the customer sees it acknowledged on
ALLEGRO and is told once (Kylie's alarmAcknowledgeEvent, the alarmStateChangeEvent listener); a repair
still clears it, and a cleared alarm cannot be acknowledged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from lso.cli import app
from lso.security.admin import ADMIN_CLIENT, admin_secret
from lso.settings import Settings
from lso.sof.assurance.alarm_admin import PREFIX
from tests.harness import EventListener, party_client, subscribed, wait_until
from tests.sof.assurance.assurance import ALLEGRO_ALARMS, customer_epl
from tests.sof.assurance.test_alarm_management import LEGATO_ALARMS, link_fault

runner = CliRunner()


def lso_alarm(settings: Settings, *args: str) -> Any:
    where = ["--url", settings.base_url, "--data-dir", str(settings.data_dir)]
    return runner.invoke(app, ["alarm", *args, *where])


@pytest.fixture
def operator(domain: Settings) -> Iterator[httpx.Client]:
    with party_client(domain.base_url, ADMIN_CLIENT, admin_secret(domain.data_dir)) as client:
        yield client


def _state_changes(listener: EventListener, alarm_id: str, state: str) -> list[dict[str, Any]]:
    return [
        e
        for e in listener.received("alarmStateChangeEvent")
        if e["event"]["alarm"]["id"] == alarm_id and e["event"]["alarm"]["state"] == state
    ]


def test_the_operator_acknowledges_an_alarm_once_and_a_repair_still_clears_it(
    domain: Settings, acme: httpx.Client, bus: httpx.Client, icm: httpx.Client, operator: httpx.Client
) -> None:
    epl = customer_epl(bus, "acme")
    with subscribed(acme, ALLEGRO_ALARMS) as listener:
        with link_fault(bus, icm, epl):
            raised = wait_until(
                lambda: acme.get(f"{ALLEGRO_ALARMS}/alarm", params={"affectedServiceId": epl}).json()
            )
            alarm_id = raised[0]["id"]
            listed = lso_alarm(domain, "list", "--state", "unAcknowledged", "--json")
            assert listed.exit_code == 0, listed.output
            assert {"id": alarm_id, "party": "acme"}.items() <= next(
                a for a in json.loads(listed.output) if a["id"] == alarm_id
            ).items()

            acked = lso_alarm(domain, "ack", alarm_id, "--by", "noc-alice")
            assert acked.exit_code == 0, acked.output
            assert "acknowledged" in acked.output

            seen = acme.get(f"{ALLEGRO_ALARMS}/alarm/{alarm_id}").json()
            assert seen["state"] == "acknowledged"
            assert seen["comment"] == [
                {
                    "description": "acknowledged",
                    "userIdentifier": "noc-alice",
                    "systemIdentifier": ADMIN_CLIENT,
                    "time": seen["alarmChangedTime"],
                }
            ]
            legato = bus.get(f"{LEGATO_ALARMS}/alarm", params={"affectedServiceId": epl}).json()
            assert [a["state"] for a in legato] == ["acknowledged"], "BUS's copy of the same ICM alarm"
            told = wait_until(lambda: _state_changes(listener, alarm_id, "acknowledged"))
            assert told[0]["event"]["alarm"]["comment"][0]["userIdentifier"] == "noc-alice"
            assert any(
                p.endswith("/alarmNotification/v3/listener/alarmStateChangeEvent") for p in listener.paths
            )

            again = operator.post(f"{PREFIX}/{alarm_id}/acknowledge", json={"userIdentifier": "noc-bob"})
            assert again.status_code == 200, again.text
            assert again.json()["comment"] == seen["comment"], "acknowledging twice changes nothing"

        assert wait_until(lambda: _state_changes(listener, alarm_id, "cleared"))
        assert acme.get(f"{ALLEGRO_ALARMS}/alarm/{alarm_id}").json()["state"] == "cleared"
        assert len(_state_changes(listener, alarm_id, "acknowledged")) == 1, "the second ack sent nothing"

    refused = operator.post(f"{PREFIX}/{alarm_id}/acknowledge", json={"userIdentifier": "noc-alice"})
    assert refused.status_code == 409
    assert refused.json()["code"] == "conflict"
    assert lso_alarm(domain, "ack", alarm_id).exit_code == 1


def test_only_the_operator_acknowledges_and_only_alarms_that_exist(
    acme: httpx.Client, operator: httpx.Client
) -> None:
    unknown = operator.post(f"{PREFIX}/no-such-alarm/acknowledge", json={"userIdentifier": "noc-alice"})
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "notFound"
    assert acme.get(PREFIX).status_code == 403
    assert acme.post(f"{PREFIX}/no-such-alarm/acknowledge", json={"userIdentifier": "x"}).status_code == 403
