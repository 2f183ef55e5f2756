"""A domain killed with SIGKILL in the middle of an activation finishes the order after a restart, and the
network ends up holding exactly one copy of the service (MEF 55.0.1 §10.2 steps 9–10, DESIGN §4) — also
when the domain is spread over three processes (``lso serve --processes 3``), all killed at once."""

from __future__ import annotations

import os
import signal
import sqlite3
from pathlib import Path

import httpx
import pytest

from lso.security.tokens import internal_secret
from tests.bus.test_order_bodies import ORDERING, epl_order
from tests.harness import domain_process, free_port, party_client, wait_until
from tests.network import element_configurations

COMMIT_LATENCY_MS = 400


def _as_entity(base_url: str, data_dir: Path, entity: str) -> httpx.Client:
    """A client of the domain's internal IRPs, authenticated the way the entity itself is."""
    secret = internal_secret((data_dir / "jwt.secret").read_text().strip(), entity)
    return party_client(base_url, f"lso-{entity}", secret)


def _services_held(icm: httpx.Client) -> dict[str, list[str]]:
    return {
        element: [c["serviceId"] for c in configs] for element, configs in element_configurations(icm).items()
    }


def _url_of(base_url: str, entity: str) -> str:
    """Where the domain at ``base_url`` serves ``entity`` (its health answer says)."""
    return str(httpx.get(f"{base_url}/health").json()["entities"][entity])


@pytest.mark.parametrize("processes", [1, 3])
def test_sigkill_during_activation_then_restart_completes_once(tmp_path: Path, processes: int) -> None:
    data_dir, port, options = tmp_path / "provider", free_port(), ("--processes", str(processes))
    with domain_process(data_dir, port, options=options) as (process, base_url):
        assert (_url_of(base_url, "icm") != base_url) == (processes > 1)  # ICM in a process of its own or not
        icm = _as_entity(_url_of(base_url, "icm"), data_dir, "icm")
        latency = icm.put("/adagio/v1/admin/commit-latency", json={"milliseconds": COMMIT_LATENCY_MS})
        latency.raise_for_status()
        acme = party_client(base_url, "acme", "acme-secret")
        created = acme.post(f"{ORDERING}/productOrder", json=epl_order())
        assert created.status_code == 201, created.text
        order_id = created.json()["id"]
        # Some element has committed the service and the others have not: the middle of step 10.
        wait_until(lambda: any(_services_held(icm).values()))
        os.killpg(process.pid, signal.SIGKILL)  # the domain's every process
        process.wait()

    with domain_process(data_dir, port, options=options) as (_process, base_url):
        acme = party_client(base_url, "acme", "acme-secret")
        order = wait_until(lambda: _final(acme, order_id), timeout=120)
        assert order["state"] == "completed", order
        icm = _as_entity(_url_of(base_url, "icm"), data_dir, "icm")
        held = _services_held(icm)
        listed = icm.post("/restconf/operations/get-connectivity-service-list/", json={}).json()
        [service] = listed["output"]["service"]
        on_route = {element: ids for element, ids in held.items() if ids}
        # One connectivity service, and every element that holds anything holds exactly it, once.
        assert len(on_route) >= 2
        assert all(ids == [service["uuid"]] for ids in on_route.values()), held
        # SOF's events reached BUS's listener, authenticated as the domain's own, wherever each is served
        to_bus = f"{base_url}/mefApi/legato/"
        assert wait_until(lambda: (states := _deliveries(data_dir, to_bus)) and set(states) == {"delivered"})


def _deliveries(data_dir: Path, url: str) -> list[str]:
    """The states of the domain's event deliveries to listeners under ``url``, in the embedded database
    of each of its processes."""
    states = []
    for path in data_dir.glob("lso*.sqlite"):
        with sqlite3.connect(path) as db:
            rows = db.execute(
                "SELECT state, json_extract(doc, '$.url') FROM resource WHERE kind = 'mef.delivery'"
            )
            states += [state for state, target in rows if target.startswith(url)]
    return states


def _final(client: httpx.Client, order_id: str) -> dict[str, object] | None:
    order = client.get(f"{ORDERING}/productOrder/{order_id}").json()
    return order if order["state"] in ("completed", "failed", "partial", "rejected") else None
