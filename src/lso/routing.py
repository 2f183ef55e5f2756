"""Route dispatch by path prefix: a request is matched against the routers that can serve its path only.

A domain serves some four hundred routes (every entity's IRPs on one app). FastAPI tries them in order
for every request, and each try of an included router walks its routes again with per-route scope
bookkeeping: milliseconds of CPU per request, paid some thirty times per order by the entities' calls to
each other. Every route's path starts with a literal (its path format up to the first parameter), and
only routes whose literal prefix the path starts with can match it; so the app's routes are indexed by
their leading literal path segments, and a request is dispatched by FastAPI's own router code over the
routes of its prefix, in their original order — the same route is chosen as by the full scan.

When none of them matches (404, or a trailing-slash redirect), the full router handles the request
exactly as before, so error answers are unchanged. The index assumes the app has no low-priority
(frontend) routes, which would otherwise be tried before the full router's redirect.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator

from fastapi import FastAPI
from fastapi.routing import APIRouter
from starlette._utils import get_route_path
from starlette.routing import BaseRoute
from starlette.types import Receive, Scope, Send

DEPTH = 5
"""Path segments (the leading empty one included) that key the index: ``/mefApi/<irp>/<api>/<version>``
tells one API from another, deeper segments are ids."""

Key = tuple[str, ...]


def index_routes(app: FastAPI) -> None:
    """Dispatch ``app``'s requests through a :class:`PrefixDispatch` built from its routes as they are now
    (call once every router is included)."""
    app.router.middleware_stack = PrefixDispatch(app.router)


class PrefixDispatch:
    """The ASGI app of a router that first narrows the routes to those of the request's path prefix."""

    def __init__(self, router: APIRouter) -> None:
        self.router = router
        prefixes = [
            (route, [_leading_segments(path) for path in _path_formats(route)]) for route in router.routes
        ]
        nodes = {key[:depth] for _route, keys in prefixes for key in keys for depth in range(len(key) + 1)}
        self._views = {node: self._view(_serving(prefixes, node)) for node in nodes}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.router.app(scope, receive, send)
            return
        # url_for and the like still see the whole router
        scope.setdefault("router", self.router)
        await self._view_of(get_route_path(scope)).app(scope, receive, send)

    def _view_of(self, path: str) -> APIRouter:
        """The view of the deepest indexed prefix of ``path``: its routes are all that can match it."""
        key = tuple(path.split("/", DEPTH)[:DEPTH])
        for depth in range(len(key), -1, -1):
            view = self._views.get(key[:depth])
            if view is not None:
                return view
        raise AssertionError("the empty prefix is always indexed")

    def _view(self, routes: list[BaseRoute]) -> APIRouter:
        """The router over ``routes`` only; what it cannot match goes to the full router."""
        view = copy.copy(self.router)
        view.routes = routes
        view.redirect_slashes = False
        view.default = self.router.app
        return view


def _serving(prefixes: list[tuple[BaseRoute, list[Key]]], node: Key) -> list[BaseRoute]:
    """The routes, in order, with a leaf whose leading segments are a prefix of ``node``."""
    return [route for route, keys in prefixes if any(node[: len(key)] == key for key in keys)]


def _path_formats(route: BaseRoute) -> Iterator[str]:
    """The path formats of what ``route`` serves: itself, or the leaves of an included router; ``""`` (it
    may serve any path) for a route without one."""
    contexts: Iterable[object] = getattr(route, "effective_route_contexts", lambda: [route])()
    for context in contexts:
        served = getattr(context, "starlette_route", None) or context
        yield getattr(served, "path_format", None) or ""


def _leading_segments(path_format: str) -> Key:
    """The path segments every path the format matches starts with, at most :data:`DEPTH`."""
    literal, brace, _ = path_format.partition("{")
    segments = literal.split("/")
    if brace:
        segments.pop()  # the segment the first parameter is in is not whole
    return tuple(segments[:DEPTH])
