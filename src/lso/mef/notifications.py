"""The one notification mechanism of every MEF API.

Buyers register a hub (``POST …/hub {callback, query}``); when a resource changes, :func:`publish` writes
one outbox row per matching hub in the same transaction as the change, and :func:`dispatch` posts each row
``{eventId, eventTime, eventType, event}`` to
``callback + /mefApi/<irp>/<notificationApi>/<version>/listener/<eventType>``, retrying with backoff. The
row is the delivery's durable record: a crash before it is delivered loses nothing, as
:func:`redeliver_pending` posts every pending row on start. Receivers use :func:`listener_router`, which
answers 204 and deduplicates by ``eventId``.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, NoReturn

import httpx
from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session
from starlette.responses import Response

from lso.mef import runtime
from lso.mef.body import JsonBody
from lso.mef.dates import now_iso
from lso.mef.errors import Issue, MefError, unprocessable
from lso.mef.http import MefResponse, no_content
from lso.mef.store import Document, Store
from lso.security.tokens import Caller, CallerDep, InternalDep, TokenService

log = logging.getLogger(__name__)

_deliveries = Store("mef.delivery", "delivery")
_received = Store("mef.receivedEvent", "event")


@dataclass(frozen=True)
class NotificationApi:
    """A MEF notification API, e.g. CANTATA ``productOrderingNotification`` v6."""

    irp: str
    name: str
    version: str

    @property
    def listener_path(self) -> str:
        return f"/mefApi/{self.irp}/{self.name}/{self.version}/listener"

    @property
    def hubs(self) -> Store:
        return Store(f"hub.{self.irp}.{self.name}", "hub")


async def _any_caller(caller: CallerDep) -> Caller:
    return caller


def hub_router(
    api: NotificationApi, tag: str, *, authorise: Any = None, invalid_status: int = 422
) -> APIRouter:
    """``/hub`` create, get and delete for the management API that ``api`` notifies about.

    A hub follows its mount: ``authorise`` is the mount's route dependency (``Depends(...)`` returning the
    Caller; any authenticated caller when omitted), and ``invalid_status`` is what the mount's document
    answers a bad registration with — 422 where it lists 422, else 400 ``invalidBody`` (the Kylie
    assurance documents list no 422 on ``registerListener``).
    """
    router = APIRouter(tags=[tag])
    guard = authorise if authorise is not None else Depends(_any_caller)

    @router.post("/hub", status_code=201)
    def register_listener(body: JsonBody, caller: Caller = guard) -> MefResponse:
        callback = body.get("callback") if isinstance(body, dict) else None
        query = body.get("query") if isinstance(body, dict) else None
        if not isinstance(callback, str) or not callback.startswith(("http://", "https://")):
            _refuse(invalid_status, "/callback", "callback must be an absolute http(s) URL")
        if query is not None and not isinstance(query, str):
            _refuse(invalid_status, "/query", "query must be a string such as eventType=a,b")
        hub = {"id": str(uuid.uuid4()), "callback": callback.rstrip("/"), "query": query}
        with runtime.current().db.session() as session:
            api.hubs.add(session, hub, party=caller.party_id)
        return MefResponse(hub, status_code=201)

    @router.get("/hub/{hub_id}")
    def get_hub(hub_id: str, caller: Caller = guard) -> MefResponse:
        with runtime.current().db.read() as session:
            return MefResponse(api.hubs.get(session, hub_id, caller.party_id))

    @router.delete("/hub/{hub_id}", status_code=204)
    def unregister_listener(hub_id: str, caller: Caller = guard) -> Response:
        with runtime.current().db.session() as session:
            hub = api.hubs.get(session, hub_id, caller.party_id)
            hub["state"] = "deleted"
            api.hubs.put(session, hub)
        return no_content()

    return router


def _refuse(status: int, path: str, message: str) -> NoReturn:
    if status == 422:
        raise unprocessable(Issue(path, message, "invalidValue"))
    raise MefError(status, f"{path[1:]}: {message}", code="invalidBody")


def publish(
    session: Session,
    api: NotificationApi,
    party: str | None,
    event_type: str,
    event: Document,
    event_id: str | None = None,
) -> list[str]:
    """Queue ``event`` for every hub of ``party`` whose query selects ``event_type``; returns delivery ids.

    Give a deterministic ``event_id`` from a workflow so a re-executed step publishes the same event, which
    receivers then discard as a duplicate.
    """
    event_id = event_id or str(uuid.uuid4())
    body = {"eventId": event_id, "eventTime": now_iso(), "eventType": event_type, "event": event}
    ids = []
    for hub in api.hubs.all(session, party):
        if hub.get("state") == "deleted" or not _selects(hub.get("query"), event_type):
            continue
        delivery_id = f"{event_id}:{hub['id']}"
        if _deliveries.find(session, delivery_id) is None:
            url = f"{hub['callback']}{api.listener_path}/{event_type}"
            _deliveries.add(
                session, {"id": delivery_id, "state": "pending", "url": url, "body": body}, party=party
            )
        ids.append(delivery_id)
    return ids


def dispatch(delivery_ids: list[str]) -> None:
    """Post each of ``delivery_ids`` from a thread of its own, unless this process is posting it already.

    Call it once the transaction that published them has committed. Not a DBOS workflow: the outbox row,
    committed with the change it reports, already makes the delivery durable, and the system database
    writes of a workflow per event were a tenth of an order's CPU."""
    for delivery_id in delivery_ids:
        with _posting_lock:
            if delivery_id in _posting:
                continue
            done = _posting[delivery_id] = threading.Event()
        thread = threading.Thread(target=_courier, args=(delivery_id, done), name="deliver", daemon=True)
        thread.start()


def wait_delivered(delivery_ids: list[str], timeout_s: float) -> None:
    """Wait, at most ``timeout_s`` in all, until this process has stopped posting each of ``delivery_ids``
    (delivered, or failed after every attempt)."""
    deadline = time.monotonic() + timeout_s
    for delivery_id in delivery_ids:
        with _posting_lock:
            done = _posting.get(delivery_id)
        if done is not None:
            done.wait(max(0.0, deadline - time.monotonic()))


def redeliver_pending() -> None:
    with runtime.current().db.session() as session:
        pending, _ = _deliveries.list(
            session, party=None, filters={"state": "pending"}, offset=0, limit=100_000
        )
    dispatch([d["id"] for d in pending])


DELIVERY_ATTEMPTS = 10
FIRST_RETRY_S = 0.5  # doubled after each failed attempt: about 4 minutes in all

# The deliveries this process is posting, each with the event set when it stops posting it.
_posting: dict[str, threading.Event] = {}
_posting_lock = threading.Lock()


class DomainStopping(BaseException):
    """The domain stops while a delivery waits to try again. Not an ``Exception``, which a delivery takes
    for a failed attempt: the delivery stays pending, as after a crash, and the next start posts it."""


def _courier(delivery_id: str, done: threading.Event) -> None:
    try:
        _deliver(delivery_id)
    except DomainStopping:
        pass
    finally:
        with _posting_lock:
            del _posting[delivery_id]
        done.set()


def _deliver(delivery_id: str) -> str:
    """POST the event and record it delivered; what became of it.

    A delivery read as no longer pending is not posted (a repeated dispatch, or one after a restart). One
    that posted just before a crash posts again after it, and the receiver discards the repeat by
    eventId. After the last attempt the delivery is recorded as failed."""
    rt = runtime.current()
    for _attempt in attempts(rt.stopping):
        try:
            return _post(rt, delivery_id)
        except Exception as exc:  # the listener is down or refuses: try again later
            failure = exc
    log.warning("notification %s undeliverable: %s", delivery_id, failure)
    return _record(rt, delivery_id, "failed")


def attempts(stopping: threading.Event) -> Iterator[int]:
    """Attempt numbers, the back-off waited between them; ``stopping`` set ends a wait at once."""
    for attempt in range(DELIVERY_ATTEMPTS):
        if attempt and stopping.wait(FIRST_RETRY_S * 2 ** (attempt - 1)):
            raise DomainStopping
        yield attempt


def _post(rt: runtime.Runtime, delivery_id: str) -> str:
    with rt.db.read() as session:
        delivery = _deliveries.get(session, delivery_id)
    if delivery["state"] != "pending":
        return str(delivery["state"])
    response = rt.http.post(
        delivery["url"], json=delivery["body"], headers=_credentials(delivery["url"]), timeout=10
    )
    if response.status_code >= 300:
        raise httpx.HTTPStatusError(
            f"listener answered {response.status_code}", request=response.request, response=response
        )
    return _record(rt, delivery_id, "delivered")


def _record(rt: runtime.Runtime, delivery_id: str, state: str) -> str:
    with rt.db.session() as session:
        _deliveries.put(session, {**_deliveries.get(session, delivery_id), "state": state})
    return state


def _credentials(url: str) -> dict[str, str]:
    """A delivery to one of this domain's own listeners proves it comes from the domain, so an internal
    listener (an alarm that makes ICM reroute, a LEGATO event that moves an order) can refuse anyone else."""
    settings = runtime.current().settings
    if not settings.is_domain_url(url):
        return {}
    tokens = TokenService(runtime.current().db, settings.jwt_secret, issuer=settings.issuer)
    return {"Authorization": f"Bearer {tokens.issue(Caller(party_id='lso-notifications', role='internal'))}"}


def _selects(query: Any, event_type: str) -> bool:
    """Hub queries of the form ``eventType=a,b`` (MEF) select event types; no query selects all."""
    if not query:
        return True
    for clause in str(query).split("&"):
        name, _, values = clause.partition("=")
        if name.strip() == "eventType" and event_type not in [v.strip() for v in values.split(",")]:
            return False
    return True


EventHandler = Callable[[Document], None]


def listener_router(
    api: NotificationApi, handlers: dict[str, EventHandler], *, internal: bool = False
) -> APIRouter:
    """The buyer side: ``POST {listener_path}/<eventType>`` → handler, once per ``eventId``.

    ``internal``: the events come from this domain's own entities (LEGATO, PRESTO, ADAGIO events), which
    deliver them with the domain's credentials; anyone else is refused.
    """
    router = APIRouter(prefix=api.listener_path, tags=[f"{api.name} listener"])
    for event_type, handler in handlers.items():
        receive = _internal_receiver(api, handler) if internal else _receiver(api, handler)
        router.add_api_route(f"/{event_type}", receive, methods=["POST"], status_code=204)
    return router


def _receiver(api: NotificationApi, handler: EventHandler) -> Callable[..., Any]:
    def receive(body: JsonBody) -> Response:
        return _receive(api, handler, body)

    return receive


def _internal_receiver(api: NotificationApi, handler: EventHandler) -> Callable[..., Any]:
    def receive(body: JsonBody, _caller: InternalDep) -> Response:
        return _receive(api, handler, body)

    return receive


def _receive(api: NotificationApi, handler: EventHandler, body: Any) -> Response:
    if not isinstance(body, dict) or not isinstance(body.get("eventId"), str) or "event" not in body:
        raise MefError(400, "A notification needs eventId and event", code="invalidBody")
    _handle_once(api, handler, body)
    return no_content()


def _handle_once(api: NotificationApi, handler: EventHandler, body: Document) -> None:
    """Run ``handler`` unless this eventId was handled before.

    No transaction is held while the handler runs (it opens its own); two deliveries of one event racing
    each other may both run it, so handlers are idempotent — the record only spares the common repeat.
    """
    key = f"{api.name}:{body['eventId']}"
    db = runtime.current().db
    with db.read() as session:  # a read: most events are new, and it need not wait for the write lock
        if _received.find(session, key) is not None:
            return
    handler(body)
    with db.session() as session:
        if _received.find(session, key) is None:
            _received.add(session, {"id": key, "eventType": body.get("eventType")})
