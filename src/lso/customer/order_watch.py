"""A customer's listener for CANTATA product order notifications: learn that an order is done when the
seller says so (§10.2 step 14), instead of polling.

It serves ``POST …/productOrderingNotification/v6/listener/productOrderStateChangeEvent`` on a loopback
port of the customer's machine; register its ``url`` on the seller's hub.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lso.customer.cantata_client import ORDER_END_STATES, CantataClient

EVENT_PATH = "/mefApi/cantata/productOrderingNotification/v6/listener/productOrderStateChangeEvent"
STARTUP_TIMEOUT_S = 10.0


class OrderWatch:
    """The final state of each order the seller has reported, and a wait for it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._final: dict[str, str] = {}
        self._changed = threading.Condition()

    def record(self, event: dict[str, Any]) -> None:
        order = event.get("event") or {}
        if order.get("state") in ORDER_END_STATES:
            with self._changed:
                self._final[str(order.get("id"))] = str(order["state"])
                self._changed.notify_all()

    def wait(self, order_id: str, timeout: float) -> str | None:
        """The order's final state, or None when the seller did not report one within ``timeout``."""
        with self._changed:
            self._changed.wait_for(lambda: order_id in self._final, timeout)
            return self._final.get(order_id)


@contextmanager
def watching(client: CantataClient) -> Iterator[OrderWatch]:
    """Serve a listener on a free loopback port and register it for the client's order state changes."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    watch = OrderWatch(f"http://127.0.0.1:{port}")

    async def receive(request: Request) -> Response:
        watch.record(await request.json())
        return Response(status_code=204)

    app = Starlette(routes=[Route(EVENT_PATH, receive, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    hub = None
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not server.started:  # uvicorn offers no event to wait on
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the order listener did not start")
            time.sleep(0.01)
        hub = client.register_listener("productOrder", watch.url, "eventType=productOrderStateChangeEvent")
        yield watch
    finally:
        if hub is not None:
            client.unregister_listener("productOrder", hub["id"])
        server.should_exit = True
        thread.join()
