"""SOF tells BUS about every service order state change through the hub BUS registers."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from tests.harness import wait_until
from tests.sof.orders import ORDERING, epl_order

LISTENER = "/mefApi/legato/serviceOrderingNotification/v6/listener/"


class _Listener(BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, Any]]]

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        self.received.append((self.path, body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def listener() -> Iterator[tuple[str, list[tuple[str, dict[str, Any]]]]]:
    """A stand-in for BUS's listener: its base URL and the (path, body) of each event it received."""
    received: list[tuple[str, dict[str, Any]]] = []
    handler = type("Listener", (_Listener,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()


def test_order_and_item_state_changes_reach_the_registered_listener(
    internal: Callable[[str], httpx.Client], listener: tuple[str, list[tuple[str, dict[str, Any]]]]
) -> None:
    bus = internal("bus")
    callback, received = listener
    query = "eventType=serviceOrderStateChangeEvent,serviceOrderItemStateChangeEvent"
    hub = bus.post(f"{ORDERING}/hub", json={"callback": callback, "query": query})
    assert hub.status_code == 201
    try:
        body = epl_order()
        del body["serviceOrderItem"][2]["service"]["serviceConfiguration"]["ingressBwp"]
        order_id = bus.post(f"{ORDERING}/serviceOrder", json=body).json()["id"]

        def rejected_events() -> list[tuple[str, dict[str, Any]]]:
            """The order's events once its own and its three items' have come (each event has its own
            delivery, so they may arrive in any order)."""
            mine = [(p, b) for p, b in received if b["event"]["id"] == order_id]
            order_rejected = any(
                b["event"]["state"] == "rejected" and "orderItemId" not in b["event"] for _, b in mine
            )
            items = {b["event"]["orderItemId"] for _, b in mine if "orderItemId" in b["event"]}
            return mine if order_rejected and len(items) >= 3 else []

        mine = wait_until(rejected_events)
    finally:
        bus.delete(f"{ORDERING}/hub/{hub.json()['id']}")

    paths = {path for path, _ in mine}
    assert paths == {
        LISTENER + "serviceOrderStateChangeEvent",
        LISTENER + "serviceOrderItemStateChangeEvent",
    }, "serviceOrderCreateEvent was not asked for and must not be sent"
    items = {b["event"]["orderItemId"]: b["event"]["state"] for p, b in mine if "orderItemId" in b["event"]}
    assert items == {"uni-a": "rejected", "uni-z": "rejected", "evc": "rejected"}
    assert all(b["eventType"] in p and b["eventId"] and b["eventTime"] for p, b in mine)
