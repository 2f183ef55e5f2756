"""The service inventory's hubs on ALLEGRO and INTERLUDE hear of the services their party may see: a
customer's listener learns that its EVC was created, activated and modified (Kylie serviceInventory
notifications, with the ALLEGRO href), another customer's or a partner buyer's listener hears nothing of
it, and BUS, its owner, still hears of it on LEGATO."""

from __future__ import annotations

from typing import Any

import httpx

from lso.settings import Settings
from tests.harness import EventListener, party_client, running_listener, wait_until
from tests.sof.assurance.assurance import customer_epl
from tests.sof.orders import ORDERING, change_order, modify_item
from tests.sof.test_activation import settled

ALLEGRO_INVENTORY = "/mefApi/allegro/serviceInventory/v2"
INTERLUDE_INVENTORY = "/mefApi/interlude/serviceInventory/v2"
LEGATO_INVENTORY = "/mefApi/legato/serviceInventory/v7"
ALLEGRO_LISTENER = "/mefApi/allegro/serviceInventoryNotification/v2/listener"


def _register(client: httpx.Client, base: str, listener: EventListener) -> None:
    created = client.post(f"{base}/hub", json={"callback": listener.url})
    assert created.status_code == 201, created.text


def test_a_customer_hears_of_its_evc_on_allegro_and_no_other_customer_does(
    domain: Settings, bus: httpx.Client, acme: httpx.Client, globex: httpx.Client
) -> None:
    with running_listener() as mine, running_listener() as theirs, running_listener() as owner:
        _register(acme, ALLEGRO_INVENTORY, mine)
        _register(globex, ALLEGRO_INVENTORY, theirs)
        with party_client(domain.base_url, "carrier-x", "carrier-x-secret") as buyer:  # a partner buyer
            _register(buyer, INTERLUDE_INVENTORY, theirs)
        _register(bus, LEGATO_INVENTORY, owner)

        evc = customer_epl(bus, "acme")

        active = wait_until(lambda: _about(mine, "serviceStateChangeEvent", evc, state="active"))
        assert active[0]["event"]["href"].endswith(f"{ALLEGRO_INVENTORY}/service/{evc}")
        assert wait_until(lambda: mine.about("serviceCreateEvent", evc))
        assert f"{ALLEGRO_LISTENER}/serviceStateChangeEvent" in mine.paths
        # BUS, the owner, hears of the same change on LEGATO with LEGATO's href.
        legato = wait_until(lambda: _about(owner, "serviceStateChangeEvent", evc, state="active"))
        assert legato[0]["event"]["href"].endswith(f"{LEGATO_INVENTORY}/service/{evc}")

        modified = settled(bus, _modify(bus, evc))
        assert modified["state"] == "completed", modified
        assert wait_until(lambda: mine.about("serviceAttributeValueChangeEvent", evc))

        # Everything about the EVC reached acme; by then globex's listener would have had its copies.
        assert not [e for e in theirs.events if e["event"]["id"] == evc]


def _modify(bus: httpx.Client, service_id: str) -> str:
    created = bus.post(f"{ORDERING}/serviceOrder", json=change_order(modify_item("m", service_id, 30)))
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def _about(listener: EventListener, event_type: str, service_id: str, **detail: Any) -> list[Any]:
    return [e for e in listener.about(event_type, service_id) if detail.items() <= e["event"].items()]
