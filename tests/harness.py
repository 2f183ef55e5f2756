"""Running real domains for tests: a uvicorn server on a free loopback port, in a thread or a process; and a
buyer's notification listener that records every event it receives."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lso.domain import Domain
from lso.security.client import ClientCredentials
from lso.security.tokens import internal_secret
from lso.settings import Settings
from tests.conformance.openapi import RECORDER

DEADLINE_S = 60.0
STARTUP_DEADLINE_S = 180.0
"""A domain seeds its demo footprint and recovers its workflows before it answers: on a loaded 2-core
machine (CI with pytest-xdist, or other work) that took up to 50 s."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Callable[[], Any], timeout: float = DEADLINE_S, interval: float = 0.05) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last value: {last!r})")


def healthy(base_url: str) -> bool:
    """Whether the domain at ``base_url`` answers its health check."""
    try:
        return httpx.get(f"{base_url}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def domain_in_thread(data_dir: Path, **overrides: Any) -> Iterator[Settings]:
    """A demo domain served by uvicorn in a background thread of this process (one per process: DBOS
    is a process-wide singleton)."""
    settings = Settings.load(data_dir, port=free_port(), demo=True, **overrides)
    server = Domain(settings).server()
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: healthy(settings.base_url) or not thread.is_alive(), STARTUP_DEADLINE_S)
    if not thread.is_alive():
        raise RuntimeError("the domain failed to start; see the log above")
    try:
        yield settings
    finally:
        server.should_exit = True
        thread.join(timeout=DEADLINE_S)


@contextmanager
def domain_process(
    data_dir: Path, port: int | None = None, env: dict[str, str] | None = None, options: tuple[str, ...] = ()
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``lso serve --demo OPTIONS`` in a child process, for tests that kill it; in a session of its own, so
    that ``os.killpg`` kills it with the processes it started."""
    port = port or free_port()
    command = [
        sys.executable,
        "-m",
        "lso.cli",
        "serve",
        "--demo",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        *options,
    ]
    log = open(data_dir.parent / f"{data_dir.name}-{port}.log", "ab")  # noqa: SIM115 - closed below
    env = {**os.environ, **(env or {})}
    process = subprocess.Popen(command, stdout=log, stderr=log, env=env, start_new_session=True)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: healthy(base_url) or process.poll() is not None, STARTUP_DEADLINE_S)
        if process.poll() is not None:
            raise RuntimeError(f"lso serve exited with {process.returncode}; see {log.name}")
        yield process, base_url
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=DEADLINE_S)
        log.close()


def party_client(base_url: str, client_id: str, secret: str) -> httpx.Client:
    """An HTTP client that authenticates as ``client_id`` with OAuth2 client credentials.

    Every MEF response it receives is checked against the official MEF document of its endpoint
    (tests/conformance/openapi.py); a violation fails the test that received it.
    """
    auth = ClientCredentials(f"{base_url}/oauth2/token", client_id, secret)
    return httpx.Client(base_url=base_url, auth=auth, timeout=30, event_hooks={"response": [RECORDER]})


def internal_client(settings: Settings, entity: str) -> httpx.Client:
    """A client of this domain's internal reference points (LEGATO, PRESTO, ADAGIO) acting as ``entity``
    (bus, sof, icm or ecm) — what that entity's own IRP client would send."""
    secret = internal_secret(settings.jwt_secret, entity)
    return party_client(settings.base_url, f"lso-{entity}", secret)


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


@contextmanager
def subscribed(client: httpx.Client, api: str) -> Iterator[EventListener]:
    """A listener registered on the ``/hub`` of ``api`` (a path prefix) as ``client``'s party, for the
    duration of the block; the registration is removed afterwards."""
    with running_listener() as listener:
        hub = client.post(f"{api}/hub", json={"callback": listener.url})
        assert hub.status_code == 201, hub.text
        try:
            yield listener
        finally:
            client.delete(f"{api}/hub/{hub.json()['id']}")
