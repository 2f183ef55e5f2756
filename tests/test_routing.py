"""Dispatch by path prefix (lso.routing) chooses the route the full router would, and answers the same."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator, Sequence

import pytest
from fastapi import FastAPI
from starlette.routing import BaseRoute, Match
from starlette.types import Message, Scope

from lso.domain import Domain
from lso.routing import PrefixDispatch
from lso.settings import Settings

ODD_PATHS = (
    "/",
    "/nowhere",
    "/health/",
    "/metrics",
    "/metrics/",
    "/mefApi",
    "/mefApi/legato/",
    "/adagio/v1/x",
)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    """The demo domain's app, not started: routing needs no database."""
    return Domain(Settings.load(tmp_path_factory.mktemp("routing"), demo=True)).app()


def _scope(method: str, path: str) -> Scope:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }


def _chosen(routes: Sequence[BaseRoute], scope: Scope) -> BaseRoute | None:
    """The route a router over ``routes`` hands the request to: the first full match, else the first partial
    one (wrong method)."""
    partial = None
    for route in routes:
        match, _ = route.matches(dict(scope))
        if match is Match.FULL:
            return route
        if match is Match.PARTIAL and partial is None:
            partial = route
    return partial


Answer = tuple[int, list[tuple[bytes, bytes]], bytes]


def _requests(app: FastAPI) -> Iterator[tuple[str, str]]:
    """For every route the app serves a concrete path (parameters filled in) with the methods it serves and
    one it does not; and a few paths it does not serve."""
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", lambda r=route: [r])()
        for context in contexts:
            served = getattr(context, "starlette_route", None) or context
            path = re.sub(r"\{[^}]+\}", "x1", served.path_format)
            for method in {*(getattr(served, "methods", None) or {"GET"}), "PATCH"}:
                yield method, path
    for path in ODD_PATHS:
        yield "GET", path


def test_each_request_goes_to_the_route_the_full_router_chooses(app: FastAPI) -> None:
    dispatch = app.router.middleware_stack
    assert isinstance(dispatch, PrefixDispatch)
    requests = set(_requests(app))
    for method, path in requests:
        scope = _scope(method, path)
        assert _chosen(dispatch._view_of(path).routes, scope) is _chosen(app.router.routes, scope), (
            method,
            path,
        )
    assert len(requests) > 700


def test_a_request_is_matched_against_the_routes_of_its_api_only(app: FastAPI) -> None:
    dispatch = app.router.middleware_stack
    assert isinstance(dispatch, PrefixDispatch)
    total = len(app.router.routes)
    for path in (
        "/mefApi/legato/serviceInventory/v7/service",
        "/restconf/operations/get-connectivity-service-list/",
        "/adagio/v1/elements/pe-1",
        "/mefApi/cantata/productCatalog/v4/productOffering",
        "/health",
    ):
        assert len(dispatch._view_of(path).routes) <= total // 4, path


async def _answers(app: FastAPI, requests: list[tuple[str, str]]) -> list[Answer]:
    answers = []
    for method, path in requests:
        messages: list[Message] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Message, into: list[Message] = messages) -> None:
            into.append(message)

        await app(_scope(method, path), receive, send)
        body = b"".join(m.get("body", b"") for m in messages[1:])
        answers.append((messages[0]["status"], sorted(messages[0]["headers"]), body))
    return answers


def test_answers_are_those_of_the_full_router(app: FastAPI) -> None:
    """Unauthenticated requests of every kind (401, 404, 405, redirects, open routes) answer byte for byte
    as when every route is tried in order."""
    dispatch = app.router.middleware_stack
    requests = sorted(
        {(m, p) for m, p in _requests(app) if m in ("GET", "PATCH") and not p.startswith("/metrics")}
    )
    try:
        indexed = asyncio.run(_answers(app, requests))
        app.router.middleware_stack = app.router.app
        scanned = asyncio.run(_answers(app, requests))
    finally:
        app.router.middleware_stack = dispatch
    for request, by_index, by_scan in zip(requests, indexed, scanned, strict=True):
        assert by_index == by_scan, request
    assert {status for status, _, _ in indexed} >= {200, 307, 401, 404}
