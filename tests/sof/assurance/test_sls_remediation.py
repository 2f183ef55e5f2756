"""SLS assessment with closed-loop remediation (MEF 55.0.1 §10.6) on a running domain.

An EPL is ordered over LEGATO with an SLS; an impairment injected through the ADAGIO admin API breaks the
SLS; SOF's periodic assessment opens a degradation, tests, reroutes and finds the SLS met again — or, when
no path avoids the impairment, asks for a person and closes the degradation once the impairment is gone.
BUS hears every step on its LEGATO service inventory hub.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.harness import EventListener, subscribed, wait_until
from tests.sof.assurance.sls_orders import active_evc, epl_order_with_sls
from tests.sof.orders import INVENTORY
from tests.sof.test_activation import characteristic

ADMIN = "/adagio/v1/admin/impairments"


@pytest.fixture
def inventory_events(bus: httpx.Client) -> Iterator[EventListener]:
    with subscribed(bus, INVENTORY) as listener:
        yield listener


@pytest.fixture
def impair(internal: Any) -> Iterator[Any]:
    """Impair a link or element of the simulated network; every impairment is cleared afterwards."""
    ecm: httpx.Client = internal("ecm")
    targets: list[str] = []

    def apply(target: str, **impairment: float) -> None:
        targets.append(target)
        assert ecm.put(f"{ADMIN}/{target}", json=impairment).status_code == 200

    yield apply
    for target in targets:
        ecm.delete(f"{ADMIN}/{target}")


def degradation_in(bus: httpx.Client, service_id: str, *states: str) -> dict[str, Any] | None:
    service = bus.get(f"{INVENTORY}/service/{service_id}").json()
    found = next(
        (c["value"] for c in service["serviceCharacteristic"] if c["name"] == "slsDegradation"), None
    )
    return found if found and found["state"] in states else None


def links(path: list[str]) -> set[str]:
    return {"--".join(sorted(pair)) for pair in itertools.pairwise(path)}


def test_an_impaired_link_is_detected_and_rerouted_until_the_sls_is_met(
    bus: httpx.Client, impair: Any, inventory_events: EventListener, terminated: Any
) -> None:
    evc = terminated(active_evc(bus, epl_order_with_sls(frame_delay_ms=5)))
    path = characteristic(evc, "path")
    core = "--".join(sorted(path[1:3]))  # a core link: the network has another way around it

    impair(core, extraDelayMs=20.0)

    resolved = wait_until(lambda: degradation_in(bus, evc["id"], "resolved"), timeout=90)
    assert resolved["breach"][0]["metric"] == "oneWayFrameDelay"
    assert resolved["breach"][0]["measured"] > 5
    new_path = characteristic(bus.get(f"{INVENTORY}/service/{evc['id']}").json(), "path")
    assert core not in links(new_path)
    assert (new_path[0], new_path[-1]) == (path[0], path[-1])
    # open, testing, remediating, resolved: each step reported to BUS
    wait_until(lambda: len(inventory_events.about("serviceAttributeValueChangeEvent", evc["id"])) >= 4)


def test_without_another_path_a_person_is_asked_and_the_degradation_ends_when_the_sls_is_met(
    bus: httpx.Client, internal: Any, impair: Any, terminated: Any
) -> None:
    evc = terminated(active_evc(bus, epl_order_with_sls(frame_delay_ms=5)))
    path = characteristic(evc, "path")
    edge = path[-1]  # the Z-end element: every path goes through it

    impair(edge, lossRatio=0.2)

    manual = wait_until(lambda: degradation_in(bus, evc["id"], "manualInterventionRequired"), timeout=90)
    assert manual["breach"][0]["metric"] == "oneWayFrameLossRatio"
    internal("ecm").delete(f"{ADMIN}/{edge}")  # the person repairs the element
    resolved = wait_until(lambda: degradation_in(bus, evc["id"], "resolved"), timeout=60)
    assert resolved["id"] == manual["id"]
