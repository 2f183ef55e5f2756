"""Hub notifications: durable delivery with retries, hub queries, receiver-side deduplication."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from lso.mef import notifications, runtime
from lso.mef.errors import install_error_handlers
from lso.mef.notifications import NotificationApi, _deliveries, dispatch, listener_router, publish
from lso.mef.store import Document
from lso.settings import Settings
from tests.harness import free_port, wait_until

API = NotificationApi("test", "testNotification", "v1")


class Listener:
    """A buyer's listener on a free loopback port that records what it receives."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[Document] = []
        app = FastAPI()
        install_error_handlers(app)
        handlers: dict[str, Any] = {
            name: self.received.append for name in ("thingCreateEvent", "thingStateChangeEvent")
        }
        app.include_router(listener_router(API, handlers))
        self.server = uvicorn.Server(uvicorn.Config(app, port=self.port, log_level="warning"))
        self.thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        wait_until(lambda: self.server.started)

    def stop(self) -> None:
        self.server.should_exit = True
        if self.thread:
            self.thread.join()


@pytest.fixture
def listener(domain: Settings) -> Iterator[Listener]:
    listener = Listener()
    yield listener
    listener.stop()


def _register(party: str, callback: str, query: str | None = None) -> None:
    with runtime.current().db.session() as session:
        API.hubs.add(session, {"callback": callback, "query": query}, party=party)


def _publish(party: str, event_type: str, event_id: str) -> list[str]:
    with runtime.current().db.session() as session:
        ids = publish(session, API, party, event_type, {"id": "thing-1", "state": "active"}, event_id)
    dispatch(ids)
    return ids


def test_event_reaches_the_hub_of_its_party_only(listener: Listener) -> None:
    listener.start()
    _register("party-a", listener.base_url)
    _register("party-b", listener.base_url + "/elsewhere")
    _publish("party-a", "thingCreateEvent", "ev-1")
    wait_until(lambda: listener.received)
    event = listener.received[0]
    assert event["eventId"] == "ev-1" and event["eventType"] == "thingCreateEvent"
    assert event["event"] == {"id": "thing-1", "state": "active"}


def test_hub_query_selects_event_types(listener: Listener) -> None:
    listener.start()
    _register("party-c", listener.base_url, "eventType=thingStateChangeEvent")
    assert _publish("party-c", "thingCreateEvent", "ev-2") == []
    _publish("party-c", "thingStateChangeEvent", "ev-3")
    wait_until(lambda: listener.received)
    assert [e["eventId"] for e in listener.received] == ["ev-3"]


def test_delivery_is_retried_until_the_listener_is_up(listener: Listener) -> None:
    _register("party-d", listener.base_url)
    [delivery_id] = _publish("party-d", "thingCreateEvent", "ev-4")
    with runtime.current().db.session() as session:
        assert _deliveries.get(session, delivery_id)["state"] == "pending"
    listener.start()
    wait_until(lambda: listener.received, timeout=30)
    assert [e["eventId"] for e in listener.received] == ["ev-4"]
    wait_until(lambda: _delivery(delivery_id)["state"] == "delivered")  # recorded by the delivery


def test_a_delivery_left_pending_is_posted_on_start(listener: Listener) -> None:
    """A crash between the commit of an event and its delivery: the next start posts it."""
    _register("party-e", listener.base_url)
    with runtime.current().db.session() as session:
        [delivery_id] = publish(session, API, "party-e", "thingCreateEvent", {"id": "thing-2"}, "ev-6")
    listener.start()
    notifications.redeliver_pending()
    notifications.wait_delivered([delivery_id], timeout_s=30)
    assert _delivery(delivery_id)["state"] == "delivered"
    assert [e["eventId"] for e in listener.received] == ["ev-6"]


def _delivery(delivery_id: str) -> dict[str, object]:
    with runtime.current().db.read() as session:
        return _deliveries.get(session, delivery_id)


def test_a_repeated_event_is_handled_once(listener: Listener) -> None:
    listener.start()
    body = {
        "eventId": "ev-5",
        "eventTime": "2026-11-29T00:00:00.000Z",
        "eventType": "thingCreateEvent",
        "event": {},
    }
    url = f"{listener.base_url}{API.listener_path}/thingCreateEvent"
    assert [httpx.post(url, json=body).status_code for _ in range(3)] == [204, 204, 204]
    assert len(listener.received) == 1


def test_a_notification_without_event_id_is_refused(listener: Listener) -> None:
    listener.start()
    response = httpx.post(f"{listener.base_url}{API.listener_path}/thingCreateEvent", json={"event": {}})
    assert response.status_code == 400 and response.json()["code"] == "invalidBody"
    assert listener.received == []


def test_a_stopping_domain_ends_the_wait_between_delivery_attempts() -> None:
    """A domain that stops does not sit out a delivery's back-off (minutes): the wait ends at once, with
    an exception that no delivery takes for a failed attempt, so it stays pending for the next start."""
    stopping = threading.Event()
    attempts = notifications.attempts(stopping)
    assert next(attempts) == 0
    stopping.set()
    with pytest.raises(notifications.DomainStopping):
        next(attempts)
    assert not issubclass(notifications.DomainStopping, Exception)
