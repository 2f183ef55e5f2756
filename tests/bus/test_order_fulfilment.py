"""An EPL product order end to end: CANTATA → BUS fulfilment → LEGATO → SOF → network, and back."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from lso.bus.legato_client import LegatoClient
from lso.bus.order import fulfilment
from lso.bus.order.legato_listener import SERVICE_ORDER_NOTIFICATIONS
from lso.mef import runtime
from lso.mef.notifications import _received
from lso.settings import Settings
from tests.bus.test_order_bodies import INVENTORY, ORDER_EVENTS, ORDERING, epl_order, evc_order_on
from tests.harness import EventListener, running_listener, wait_until


@pytest.fixture
def listener(domain: Settings) -> Iterator[EventListener]:
    with running_listener() as listener:
        yield listener


def _order(client: httpx.Client, order_id: str) -> dict[str, Any]:
    response = client.get(f"{ORDERING}/productOrder/{order_id}")
    assert response.status_code == 200
    order: dict[str, Any] = response.json()
    return order


def _final(client: httpx.Client, order_id: str) -> dict[str, Any]:
    finals = {"completed", "failed", "partial", "rejected"}
    return wait_until(lambda: (o := _order(client, order_id))["state"] in finals and o, timeout=120)


def test_epl_order_completes_with_active_products_and_notifications(
    any_acme: httpx.Client, listener: EventListener
) -> None:
    """The whole of §10.2 on-net, on SQLite and (marked postgres) on PostgreSQL."""
    acme = any_acme
    hub = acme.post(
        f"{ORDERING}/hub",
        json={"callback": listener.url, "query": f"eventType={','.join(ORDER_EVENTS)}"},
    )
    assert hub.status_code == 201
    order = acme.post(
        f"{ORDERING}/productOrder", json=epl_order("site-ldn-docklands", "site-bir-hub", 200)
    ).json()

    done = _final(acme, order["id"])
    assert done["state"] == "completed", [i.get("terminationError") for i in done["productOrderItem"]]
    assert [c["state"] for c in done["stateChange"]] == ["acknowledged", "inProgress", "completed"]
    assert "completionDate" in done
    [report] = [note for note in done["note"] if note["id"] == "activation-test"]
    assert report["source"] == "seller" and report["text"].startswith("Activation test")
    assert " pass: FD " in report["text"] and "FLR 0.00%" in report["text"] and "200 Mbit/s" in report["text"]
    for item in done["productOrderItem"]:
        assert item["state"] == "completed" and "expectedCompletionDate" not in item
        assert [c["state"] for c in item["stateChange"]] == ["acknowledged", "inProgress", "completed"]

    products = acme.get(f"{INVENTORY}/product", params={"productOrderId": order["id"]}).json()
    assert len(products) == 3 and {p["status"] for p in products} == {"active"}
    by_item = {p["productOrderItem"][0]["productOrderItemId"]: p for p in products}
    evc = acme.get(f"{INVENTORY}/product/{by_item['evc']['id']}").json()
    assert {r["id"] for r in evc["productRelationship"]} == {by_item["uni-a"]["id"], by_item["uni-z"]["id"]}
    assert evc["startDate"] and evc["productConfiguration"]["@type"].endswith("epl-evc:v1.0.0:all")
    uni_a = acme.get(f"{INVENTORY}/product/{by_item['uni-a']['id']}").json()
    assert uni_a["place"][0]["place"]["id"] == "site-ldn-docklands"
    at_site = acme.get(
        f"{INVENTORY}/product", params={"geographicSiteId": "site-bir-hub", "productOrderId": order["id"]}
    )
    assert [p["id"] for p in at_site.json()] == [by_item["uni-z"]["id"]]
    related = acme.get(f"{INVENTORY}/product", params={"relatedProductId": by_item["uni-a"]["id"]}).json()
    assert [p["id"] for p in related] == [by_item["evc"]["id"]]

    def order_states() -> list[str]:
        return [e["event"]["state"] for e in listener.about(ORDER_EVENTS[0], order["id"])]

    assert wait_until(lambda: order_states() == ["inProgress", "completed"])
    item_events = wait_until(
        lambda: len(events := listener.about(ORDER_EVENTS[1], order["id"])) == 6 and events
    )
    assert len({e["eventId"] for e in item_events}) == len(item_events)


def test_another_party_sees_none_of_the_products(acme: httpx.Client, globex: httpx.Client) -> None:
    order = acme.post(
        f"{ORDERING}/productOrder", json=epl_order("site-ldn-city", "site-bri-harbour", 50)
    ).json()
    assert _final(acme, order["id"])["state"] == "completed"
    product = acme.get(f"{INVENTORY}/product", params={"productOrderId": order["id"]}).json()[0]
    assert globex.get(f"{INVENTORY}/product/{product['id']}").status_code == 404
    assert globex.get(f"{INVENTORY}/product", params={"productOrderId": order["id"]}).json() == []


def test_an_event_that_overtakes_the_answer_to_the_service_order_post_still_ends_the_wait(
    acme: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SOF can finish a service order, and its event reach BUS, before BUS has stored which product order
    the service order fulfils (it does once SOF answers the POST): the event, not a timeout, ends the wait."""
    monkeypatch.setattr(fulfilment, "WAIT_S", 3600.0)  # within _final's deadline only the event can
    create = LegatoClient.create_service_order

    def answered_once_completion_is_handled(client: LegatoClient, body: dict[str, Any]) -> dict[str, Any]:
        created = create(client, body)
        wait_until(lambda: _completion_handled(created["id"]))
        return created

    monkeypatch.setattr(LegatoClient, "create_service_order", answered_once_completion_is_handled)
    order = acme.post(f"{ORDERING}/productOrder", json=epl_order("site-ldn-city", "site-bri-harbour"))
    assert order.status_code == 201, order.text
    assert _final(acme, order.json()["id"])["state"] == "completed"


def _completion_handled(service_order_id: str) -> bool:
    """BUS's LEGATO listener has handled SOF's event of the service order's completion."""
    with runtime.current().db.read() as session:
        key = f"{SERVICE_ORDER_NOTIFICATIONS.name}:{service_order_id}:state:completed"
        return _received.find(session, key) is not None


def test_evc_on_unis_from_inventory_completes(acme: httpx.Client) -> None:
    unis_only = epl_order("site-man-central", "site-lds-park")
    unis_only["productOrderItem"] = unis_only["productOrderItem"][:2]
    first = acme.post(f"{ORDERING}/productOrder", json=unis_only).json()
    assert _final(acme, first["id"])["state"] == "completed"
    unis = [p["id"] for p in acme.get(f"{INVENTORY}/product", params={"productOrderId": first["id"]}).json()]
    body = evc_order_on(unis)
    second = acme.post(f"{ORDERING}/productOrder", json=body)
    assert second.status_code == 201, second.text
    done = _final(acme, second.json()["id"])
    assert done["state"] == "completed", [i.get("terminationError") for i in done["productOrderItem"]]
    product = acme.get(f"{INVENTORY}/product", params={"productOrderId": done["id"]}).json()[0]
    assert sorted(r["id"] for r in product["productRelationship"]) == sorted(unis)


def test_evc_on_a_uni_already_carrying_an_epl_fails_with_the_reason(acme: httpx.Client) -> None:
    first = acme.post(
        f"{ORDERING}/productOrder", json=epl_order("site-bir-hub", "site-bri-harbour", 10)
    ).json()
    assert _final(acme, first["id"])["state"] == "completed"
    products = acme.get(f"{INVENTORY}/product", params={"productOrderId": first["id"]}).json()
    unis = [p["id"] for p in products if p["productOrderItem"][0]["productOrderItemId"] != "evc"]
    body = evc_order_on(unis)
    done = _final(acme, acme.post(f"{ORDERING}/productOrder", json=body).json()["id"])
    assert done["state"] == "failed" and "completionDate" not in done
    (item,) = done["productOrderItem"]
    assert item["state"] == "failed" and item["terminationError"][0]["propertyPath"] == "/productOrderItem/0"
    assert acme.get(f"{INVENTORY}/product", params={"productOrderId": done["id"]}).json() == []
