"""A CANTATA EPL order on a domain whose network is the linux data plane reaches ``completed``: the
service activation test that gates it (MEF 55.0.1 §10.2 step 10) really sent the order's 100 Mbit/s CIR
through the UNI's policer, and nothing exceeded the profile."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lso.ecm.drivers.linux import lab
from lso.ecm.drivers.linux.plane import prefix_of
from lso.ecm.drivers.linux.sat import ATTEMPTS, RATE_TOLERANCE, TEST_FRAME_BYTES
from lso.security.tokens import internal_secret
from tests.bus.test_order_bodies import ORDERING, epl_order
from tests.ecm.linux.conftest import leftovers, require_linux
from tests.harness import domain_process, party_client, wait_until
from tests.network import held_by_elements

CIR_BPS = 100_000_000
FRAMES_PER_S = CIR_BPS / (8 * TEST_FRAME_BYTES)  # the test's frames at CIR
# The activation test (sat.py): configuration steps of one second at 25, 50, 75, 100 and 125 % of CIR,
# then three seconds at CIR. Everything up to CIR is green; the policing step's excess is red.
GREEN_FRAMES = (0.25 + 0.5 + 0.75 + 1 + 1 + 3) * FRAMES_PER_S
RED_FRAMES = 0.25 * FRAMES_PER_S
# A policing step counts when its sender kept the offered rate within RATE_TOLERANCE (sat.kept_its_rate):
# on a busy host it sends a little less than 125 %, and its excess over CIR, the red part, shrinks more.
FEWEST_RED_FRAMES = (1.25 * (1 - RATE_TOLERANCE) - 1) * FRAMES_PER_S


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    require_linux()
    path = tmp_path / "provider"
    yield path
    lab.clean(prefix_of(path))
    assert not leftovers(prefix_of(path))


def test_an_epl_order_on_the_linux_network_completes_after_a_real_activation_test(data_dir: Path) -> None:
    with domain_process(data_dir, env={"LSO_NETWORK": "linux"}) as (_process, base_url):
        acme = party_client(base_url, "acme", "acme-secret")
        created = acme.post(f"{ORDERING}/productOrder", json=epl_order(cir_mbps=CIR_BPS / 1e6))
        assert created.status_code == 201, created.text

        order = wait_until(lambda: _final(acme, created.json()["id"]), timeout=180)

        assert order["state"] == "completed", order
        icm = party_client(
            base_url, "lso-icm", internal_secret((data_dir / "jwt.secret").read_text().strip(), "icm")
        )
        [service] = icm.post("/restconf/operations/get-connectivity-service-list/", json={}).json()["output"][
            "service"
        ]
        ends = [
            (element, port["port"])
            for element, config in held_by_elements(icm, service["uuid"]).items()
            for port in config["uniPorts"]
        ]
        assert len(ends) == 2
        counters = icm.post(
            "/adagio/v1/counters/query",
            json={"items": [{"element": e, "serviceId": service["uuid"], "port": p} for e, p in ends]},
        ).json()["counters"]
        ingress = max((c["ingress"] for c in counters), key=lambda i: i["greenFrames"])
        # The A end's policer saw the test's frames: all green up to CIR, red only in the policing step.
        assert ingress["greenFrames"] >= 0.95 * GREEN_FRAMES, ingress
        # (a step whose sender fell behind on a busy host is run again: up to ATTEMPTS policing steps)
        assert FEWEST_RED_FRAMES <= ingress["redFrames"] <= ATTEMPTS * 1.05 * RED_FRAMES, ingress


def _final(client: httpx.Client, order_id: str) -> dict[str, object] | None:
    order = client.get(f"{ORDERING}/productOrder/{order_id}").json()
    return order if order["state"] in ("completed", "failed", "partial", "rejected") else None


def test_three_epl_orders_at_once_all_complete_while_their_activation_tests_queue(data_dir: Path) -> None:
    """The domain's one test set runs one activation test at a time: the others wait for it (ECM answers
    a test it cannot start yet with 503, ICM passes that on, SOF retries) instead of failing their order."""
    with domain_process(data_dir, env={"LSO_NETWORK": "linux"}) as (_process, base_url):
        acme = party_client(base_url, "acme", "acme-secret")
        ids = []
        for _ in range(3):
            created = acme.post(f"{ORDERING}/productOrder", json=epl_order(cir_mbps=50))
            assert created.status_code == 201, created.text
            ids.append(created.json()["id"])

        orders = [wait_until(functools.partial(_final, acme, i), timeout=300) for i in ids]

        assert [order["state"] for order in orders] == ["completed"] * 3, orders
