"""A buyer's notification listener for tests: a tiny app on a free port that records every event."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from tests.harness import free_port, wait_until


class EventListener:
    """Events received, in order of arrival; ``url`` is the callback to register on a hub."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.events: list[dict[str, Any]] = []
        self.paths: list[str] = []

    def received(self, event_type: str) -> list[dict[str, Any]]:
        return [e for e in list(self.events) if e.get("eventType") == event_type]

    def about(self, event_type: str, resource_id: str) -> list[dict[str, Any]]:
        return [e for e in self.received(event_type) if e["event"]["id"] == resource_id]


@contextmanager
def running_listener() -> Iterator[EventListener]:
    port = free_port()
    listener = EventListener(f"http://127.0.0.1:{port}")

    async def receive(request: Request) -> Response:
        listener.paths.append(request.url.path)
        listener.events.append(await request.json())
        return Response(status_code=204)

    app = Starlette(routes=[Route("/{path:path}", receive, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started)
    try:
        yield listener
    finally:
        server.should_exit = True
        thread.join(timeout=10)
