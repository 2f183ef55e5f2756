"""Assembles one domain: settings → database → durable workflows → the entities' APIs on one server.

BUS, SOF, ICM and ECM are mounted side by side on one ASGI app (their MEF paths do not overlap), yet
they call each other only over HTTP through their IRP clients, so any of them can be moved out.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn
from anyio import to_thread
from dbos import DBOS, DBOSConfig
from dbos._dbos import _get_dbos_instance
from dbos._sys_db import _dbos_null_topic
from fastapi import FastAPI
from prometheus_client import make_asgi_app
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine

from lso import __version__, bus, ecm, icm, sof
from lso.db import Database, migrate, sqlite_connect_args
from lso.entity import Entity, EntityContext
from lso.mef import notifications, runtime
from lso.mef.errors import install_error_handlers
from lso.routing import index_routes
from lso.security.admin import register_admin
from lso.security.tokens import TokenService, internal_secret, register_client, token_router
from lso.settings import ENTITY_NAMES, Settings, layout_conflicts

log = logging.getLogger(__name__)

ENTITIES: list[Entity] = [ecm.ENTITY, icm.ENTITY, sof.ENTITY, bus.ENTITY]

THREADS = 256

# Entities, partners and customers keep pooled connections to a domain; with uvicorn's 5 s default a
# connection idle that long is closed just as a client reuses it ("Server disconnected").
KEEP_ALIVE_S = 120

DEMO_CUSTOMERS = {"acme": "acme-secret", "globex": "globex-secret"}
DEMO_BUYERS = {"carrier-x": "carrier-x-secret"}
"""Providers that buy from the demo domain over SONATA (role ``buyer``)."""


def dbos_sqlite_engine(url: str) -> Engine:
    """DBOS's embedded system database, in WAL mode: its checkpoints are most of a workflow's writes, and
    with the default rollback journal every one of them fsyncs and locks out readers."""
    engine = create_engine(url, connect_args=sqlite_connect_args())

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = "IMMEDIATE"  # as DBOS does: serialise writers
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=30000", "foreign_keys=ON"):
            dbapi_connection.execute(f"PRAGMA {pragma}")

    return engine


def wake_local_receivers(sys_db: Any) -> None:
    """Wake a workflow waiting in ``DBOS.recv`` as soon as a message for it commits.

    On PostgreSQL a trigger and LISTEN/NOTIFY do this; on SQLite DBOS only polls, one query per waiting
    workflow per poll, so every active service's SLS loop and every order waiting on another entity cost a
    query many times a second. Here sender and receiver share the process (an embedded domain has its own
    system database), so the waiter's event is set directly after the send; the poll stays as a fallback.
    This reaches into DBOS's system database (``send_bulk``, ``_waiter``, ``notifications_map``), the
    narrowest place that sees every send: ``DBOS.send`` inside and outside workflows ends there.
    """
    send_bulk = sys_db.send_bulk

    def send_and_wake(messages: list[Any], **kwargs: Any) -> None:
        send_bulk(messages, **kwargs)
        for message in messages:
            topic = message.topic if message.topic is not None else _dbos_null_topic
            key, _ = sys_db._waiter(message.destination_id, topic)
            waiting = sys_db.notifications_map.get(key)
            if waiting is not None:
                waiting.set()

    sys_db.send_bulk = send_and_wake


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, on_serving: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_serving = on_serving

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self._on_serving()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # From here the server no longer answers: work still running (an SLS loop, a delivery between
        # retries) fails its calls to it and is abandoned, to be recovered by the next start. Silence
        # what its threads log meanwhile; DBOS(config) sets the level again on the next launch.
        logging.getLogger("dbos").setLevel(logging.CRITICAL)
        await super().shutdown(sockets)


class LayoutConflict(ValueError):
    """The data directory's embedded databases were made by processes serving other sets of entities."""


class Domain:
    """One provider (or partner) deployment."""

    def __init__(self, settings: Settings) -> None:
        for name in ENTITY_NAMES:
            settings.url_of(name)  # a process serving some entities must know where the others are
        self.settings = settings
        conflicts = layout_conflicts(settings.data_dir, settings.entities) if settings.is_sqlite else []
        if conflicts:
            names = ", ".join(path.name for path in conflicts)
            raise LayoutConflict(
                f"{settings.data_dir} holds a domain spread over processes another way ({names}): "
                "start it as it was started before"
            )
        self.db = Database(settings.database_url)
        self.entities = [entity for entity in ENTITIES if settings.serves(entity.name)]
        self.contexts = [EntityContext(settings, self.db, entity.name) for entity in self.entities]
        self.tokens = TokenService(self.db, settings.jwt_secret, issuer=settings.issuer)

    def prepare(self) -> None:
        """Migrate, register the entities' own clients and, with ``--demo``, seed the demo data."""
        migrate(self.settings.database_url)
        runtime.install(runtime.Runtime(self.settings, self.db, httpx.Client(timeout=10)))
        with self.db.session() as session:
            for entity in ENTITIES:
                secret = internal_secret(self.settings.jwt_secret, entity.name)
                register_client(session, f"lso-{entity.name}", secret, f"lso-{entity.name}", "internal")
            register_admin(session, self.settings.data_dir)
            if self.settings.demo:
                for client_id, secret in DEMO_CUSTOMERS.items():
                    register_client(session, client_id, secret, client_id, "customer")
                for client_id, secret in DEMO_BUYERS.items():
                    register_client(session, client_id, secret, client_id, "buyer")
                for entity, ctx in zip(self.entities, self.contexts, strict=True):
                    entity.seed_demo(session, ctx)
        for entity, ctx in zip(self.entities, self.contexts, strict=True):
            entity.start(ctx)

    def server(self) -> uvicorn.Server:
        """The domain's HTTP server on ``settings.host:settings.port`` (one way for every caller)."""
        config = uvicorn.Config(
            self.app(),
            host=self.settings.host,
            port=self.settings.port,
            log_level="warning",
            timeout_keep_alive=KEEP_ALIVE_S,
        )
        return _Server(config, on_serving=self._recover)

    def app(self) -> FastAPI:
        app = FastAPI(title=f"lso domain {self.settings.name}", lifespan=self._lifespan)
        app.state.tokens = self.tokens
        app.state.domain = self
        install_error_handlers(app)
        app.include_router(token_router(self.tokens))
        for entity, ctx in zip(self.entities, self.contexts, strict=True):
            for router in entity.routers(ctx):
                app.include_router(router)
        app.mount("/metrics", make_asgi_app())

        @app.get("/health", include_in_schema=False)
        def health() -> dict[str, Any]:
            """Up, and where each of the domain's entities is served (this process or a peer)."""
            entities = {name: self.settings.url_of(name) for name in ENTITY_NAMES}
            return {"status": "ok", "domain": self.settings.name, "entities": entities}

        index_routes(app)
        return app

    def _recover(self) -> None:
        """Once the server listens (uvicorn binds its socket only after the lifespan has started): the
        deliveries and the entities' recovery work call this server, and a call refused meanwhile would
        only be retried later, logging a traceback."""
        notifications.redeliver_pending()
        for entity, ctx in zip(self.entities, self.contexts, strict=True):
            entity.recover(ctx)
        log.info("domain %s serving at %s", self.settings.name, self.settings.base_url)

    @asynccontextmanager
    async def _lifespan(self, _app: FastAPI) -> AsyncIterator[None]:
        self.prepare()
        # Entities on one server call each other over HTTP from synchronous handlers, so a request can hold
        # a worker thread while it waits for another request to the same server: keep the pool deep enough
        # that nested calls never exhaust it.
        to_thread.current_default_thread_limiter().total_tokens = THREADS
        config: DBOSConfig = {
            "name": self.settings.app_name,
            "system_database_url": self.settings.dbos_database_url,
            "dbos_system_schema": self.settings.dbos_system_schema,
            "application_version": __version__,
            "console_log_level": "WARNING",
            # Durable waits (recv) on SQLite poll for messages only as a fallback: a send wakes its
            # receiver at once (wake_local_receivers), and no other process writes this system database.
            # The poll costs one query per waiting workflow — every active service's SLS loop waits — so
            # at 1 s it was a quarter of an order's CPU once 200 services were active.
            "notification_listener_polling_interval_sec": 30.0,
            "system_database_engine": dbos_sqlite_engine(self.settings.dbos_database_url)
            if self.settings.is_sqlite
            else None,
        }
        DBOS(config=config)
        DBOS.launch()  # recovers the workflows a previous process left unfinished
        if self.settings.is_sqlite:
            wake_local_receivers(_get_dbos_instance()._sys_db)
        try:
            yield
        finally:
            runtime.current().stopping.set()
            for entity, ctx in zip(self.entities, self.contexts, strict=True):
                entity.stop(ctx)
            DBOS.destroy(destroy_registry=False)
            for ctx in self.contexts:
                ctx.close()
            self.db.dispose()
