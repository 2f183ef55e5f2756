"""A domain killed with SIGKILL in the middle of an activation finishes the order after a restart, and the
network ends up holding exactly one copy of the service (MEF 55.0.1 §10.2 steps 9–10, DESIGN §4)."""

from __future__ import annotations

from pathlib import Path

import httpx

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


def test_sigkill_during_activation_then_restart_completes_once(tmp_path: Path) -> None:
    data_dir, port = tmp_path / "provider", free_port()
    with domain_process(data_dir, port) as (process, base_url):
        icm = _as_entity(base_url, data_dir, "icm")
        latency = icm.put("/adagio/v1/admin/commit-latency", json={"milliseconds": COMMIT_LATENCY_MS})
        latency.raise_for_status()
        acme = party_client(base_url, "acme", "acme-secret")
        created = acme.post(f"{ORDERING}/productOrder", json=epl_order())
        assert created.status_code == 201, created.text
        order_id = created.json()["id"]
        # Some element has committed the service and the others have not: the middle of step 10.
        wait_until(lambda: any(_services_held(icm).values()))
        process.kill()
        process.wait()

    with domain_process(data_dir, port) as (_process, base_url):
        acme = party_client(base_url, "acme", "acme-secret")
        order = wait_until(lambda: _final(acme, order_id), timeout=120)
        assert order["state"] == "completed", order
        icm = _as_entity(base_url, data_dir, "icm")
        held = _services_held(icm)
        listed = icm.post("/restconf/operations/get-connectivity-service-list/", json={}).json()
        [service] = listed["output"]["service"]
        on_route = {element: ids for element, ids in held.items() if ids}
        # One connectivity service, and every element that holds anything holds exactly it, once.
        assert len(on_route) >= 2
        assert all(ids == [service["uuid"]] for ids in on_route.values()), held


def _final(client: httpx.Client, order_id: str) -> dict[str, object] | None:
    order = client.get(f"{ORDERING}/productOrder/{order_id}").json()
    return order if order["state"] in ("completed", "failed", "partial", "rejected") else None
