"""A domain killed with SIGKILL while it reroutes a degraded service finishes the remediation after a
restart: the same degradation (not a second one) ends resolved on a path avoiding the impaired link."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import httpx

from lso.security.tokens import internal_secret
from tests.harness import domain_process, free_port, party_client, wait_until
from tests.sof.assurance.sls_orders import epl_order_with_sls
from tests.sof.orders import INVENTORY, ORDERING

COMMIT_LATENCY_MS = 1500  # each element commit of the reroute is slow: time to kill it half-way


def _as_entity(base_url: str, data_dir: Path, entity: str) -> httpx.Client:
    secret = internal_secret((data_dir / "jwt.secret").read_text().strip(), entity)
    return party_client(base_url, f"lso-{entity}", secret)


def _fact(service: dict[str, Any], name: str) -> Any:
    return next((c["value"] for c in service.get("serviceCharacteristic", []) if c["name"] == name), None)


def test_sigkill_while_remediating_then_restart_resolves_the_same_degradation(tmp_path: Path) -> None:
    data_dir, port = tmp_path / "provider", free_port()
    env = {"LSO_SLS_PERIOD_S": "1"}
    with domain_process(data_dir, port, env=env) as (process, base_url):
        bus = _as_entity(base_url, data_dir, "bus")
        created = bus.post(f"{ORDERING}/serviceOrder", json=epl_order_with_sls(5))
        assert created.status_code == 201, created.text
        order_id = created.json()["id"]
        wait_until(lambda: bus.get(f"{ORDERING}/serviceOrder/{order_id}").json()["state"] == "completed")
        services = bus.get(f"{INVENTORY}/service", params={"externalId": created.json()["externalId"]}).json()
        evc = next(s for s in services if s["serviceType"] == "EVC")
        link = "--".join(sorted(_fact(evc, "path")[1:3]))
        icm = _as_entity(base_url, data_dir, "icm")
        icm.put(
            "/adagio/v1/admin/commit-latency", json={"milliseconds": COMMIT_LATENCY_MS}
        ).raise_for_status()
        icm.put(f"/adagio/v1/admin/impairments/{link}", json={"extraDelayMs": 20}).raise_for_status()

        def remediating() -> dict[str, Any] | None:
            found = _fact(bus.get(f"{INVENTORY}/service/{evc['id']}").json(), "slsDegradation")
            return found if found and found["state"] == "remediating" else None

        interrupted = wait_until(remediating, timeout=60)
        process.kill()
        process.wait()

    with domain_process(data_dir, port, env=env) as (_process, base_url):
        bus = _as_entity(base_url, data_dir, "bus")

        def resolved() -> dict[str, Any] | None:
            found = _fact(bus.get(f"{INVENTORY}/service/{evc['id']}").json(), "slsDegradation")
            return found if found and found["state"] == "resolved" else None

        degradation = wait_until(resolved, timeout=120)
        assert degradation["id"] == interrupted["id"]
        path = _fact(bus.get(f"{INVENTORY}/service/{evc['id']}").json(), "path")
        assert link not in {"--".join(sorted(pair)) for pair in itertools.pairwise(path)}
