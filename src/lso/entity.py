"""What a management entity (BUS, SOF, ICM, ECM) gives the domain that assembles it.

An entity contributes the routers of the IRPs it serves and may seed demo data; it reaches other entities
only through :meth:`EntityContext.client` — an authenticated HTTP client of the IRP it consumes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from fastapi import APIRouter
from sqlalchemy.orm import Session

from lso.db import Database
from lso.mef.client import authenticated
from lso.security.tokens import internal_secret
from lso.settings import Settings


@dataclass
class EntityContext:
    settings: Settings
    db: Database
    name: str
    _clients: dict[str, httpx.Client] = field(default_factory=dict)

    def client(self, entity: str) -> httpx.Client:
        """An HTTP client to ``entity`` (wherever this domain serves it) that authenticates as this one."""
        url = self.settings.url_of(entity)
        if url not in self._clients:
            secret = internal_secret(self.settings.jwt_secret, self.name)
            self._clients[url] = authenticated(url, f"lso-{self.name}", secret)
        return self._clients[url]

    def close(self) -> None:
        for client in self._clients.values():
            client.close()


@dataclass(frozen=True)
class Entity:
    name: str
    routers: Callable[[EntityContext], list[APIRouter]]
    start: Callable[[EntityContext], None] = lambda _ctx: None
    seed_demo: Callable[[Session, EntityContext], None] = lambda _session, _ctx: None
    recover: Callable[[EntityContext], None] = lambda _ctx: None
    """Runs once durable workflows are up and the server listens: restart work that a crash caught between
    storing a resource and starting its workflow (workflow ids are business keys, so work already running
    is not started twice)."""
    stop: Callable[[EntityContext], None] = lambda _ctx: None
    """Runs when the domain shuts down, before durable workflows stop: release what ``start`` acquired."""
