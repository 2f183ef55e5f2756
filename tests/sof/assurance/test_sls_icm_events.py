"""ICM's pushed events reach SLS assessment: a reroute ICM makes on its own (a link fault) is followed in
SOF's service record, so SLS remediation plans from the path the service really takes."""

from __future__ import annotations

import itertools
from typing import Any

import httpx

from tests.harness import wait_until
from tests.sof.assurance.sls_orders import epl_order_with_sls
from tests.sof.orders import INVENTORY, ORDERING
from tests.sof.test_activation import characteristic, services_of, settled

FAULTS = "/adagio/v1/admin/faults/link"


def test_a_reroute_after_a_link_fault_is_written_into_the_service_path(
    bus: httpx.Client,
    internal: Any,
    terminated: Any,
) -> None:
    body = epl_order_with_sls(50, site_a="site-bri-harbour", site_z="site-man-central")
    order = settled(bus, bus.post(f"{ORDERING}/serviceOrder", json=body).json()["id"])
    evc = terminated(next(s for s in services_of(bus, order) if s["serviceType"] == "EVC"))
    path = characteristic(evc, "path")
    core = "--".join(sorted(path[1:3]))
    ecm: httpx.Client = internal("ecm")
    assert ecm.put(f"{FAULTS}/{core}").status_code == 200
    try:

        def followed() -> list[str] | None:
            now = characteristic(bus.get(f"{INVENTORY}/service/{evc['id']}").json(), "path")
            return now if now != path else None

        new_path = wait_until(followed, timeout=60)
    finally:
        ecm.delete(f"{FAULTS}/{core}")
    assert core not in {"--".join(sorted(pair)) for pair in itertools.pairwise(new_path)}
    assert (new_path[0], new_path[-1]) == (path[0], path[-1])
