"""Moving a connectivity service onto another route, as one durable workflow per (service, cause).

The cause is an alarm (``alarm-<id>``: move off what broke) or a PRESTO request (``request-<hash>``:
avoid given links or the current path). Steps, in the order that keeps the outage shortest:

1. plan — in one transaction (the alarm handler's own, for an alarm): the shortest working route with
   the service's bandwidth free (what the service already holds counts as free for it), bandwidth
   reserved on it, kept as ``pendingRoute``;
2. configure — PUT the service on the elements new to it, then on the elements that stay but whose
   neighbours change (this is when traffic moves); every PUT is keyed and idempotent;
3. commit — the new route becomes the service's route, the old links' bandwidth is released, SOF is told;
4. clean — the configuration is removed from the elements no longer on the route.

A crash anywhere resumes from the last finished step (the workflow id is the business key) and nothing
is done twice. With no route left, an alarm marks the service operationally DISABLED (it stays so until
its route works again); a request answers ``noRoute`` and changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from dbos import DBOS, SetWorkflowID
from dbos._error import DBOSMaxStepRetriesExceeded  # not exported by dbos itself
from sqlalchemy.orm import Session

from lso.entity import EntityContext
from lso.icm import events, resources
from lso.icm.adagio_client import AdagioClient, AdagioError
from lso.icm.connectivity import INSTALLED, SERVICES, element_configurations
from lso.icm.topology import DISABLED, ENABLED, LINKS, NODES, SIPS, Route, graph, is_up, route_in
from lso.mef import runtime
from lso.mef.dates import now_iso
from lso.mef.notifications import dispatch
from lso.mef.store import Document

log = logging.getLogger(__name__)

PLANNED, REROUTED, UNCHANGED, NO_ROUTE, FAILED, GONE = (
    "planned",
    "rerouted",
    "unchanged",
    "noRoute",
    "failed",
    "notFound",
)
# avoidCurrentPath: a link of the current path costs this much more, so any other route wins, yet a link
# the service cannot do without (an end element's only link) may still be kept.
_CURRENT_PATH_PENALTY_KM = 1_000_000.0

_context: EntityContext | None = None


class RerouteBusy(Exception):
    """Another reroute of the service is under way; the plan step retries until it is done."""


def install(ctx: EntityContext) -> None:
    global _context
    _context = ctx


def _adagio() -> AdagioClient:
    if _context is None:
        raise RuntimeError("ICM is not started in this process")
    return AdagioClient(_context.client("ecm"))


def start(
    service_id: str,
    key: str,
    avoid_links: list[str] | None = None,
    avoid_current: bool = False,
    on_alarm: bool = False,
) -> Any:
    """Start (or find, when it already ran) the reroute of ``service_id`` for ``key``; returns its handle."""
    with SetWorkflowID(f"icm-reroute:{service_id}:{key}"):
        return DBOS.start_workflow(reroute, service_id, key, avoid_links or [], avoid_current, on_alarm)


def request_key(doc: Document, avoid_links: list[str], avoid_current: bool) -> str:
    """A request's key: the same request on the same state of the service is the same reroute."""
    basis = [doc["id"], doc["route"], sorted(avoid_links), avoid_current, len(doc.get("reroutes", []))]
    return "request-" + hashlib.sha256(json.dumps(basis).encode()).hexdigest()[:16]


@DBOS.workflow()
def reroute(
    service_id: str, key: str, avoid_links: list[str], avoid_current: bool, on_alarm: bool
) -> Document:
    try:
        moved = move_service(service_id, key, avoid_links, avoid_current, on_alarm)
    except DBOSMaxStepRetriesExceeded as exc:
        dispatch(undo_route(service_id, key, on_alarm))
        return {"outcome": FAILED, "reason": f"reroute of {service_id} did not finish: {exc}"}
    dispatch(moved["deliveries"])
    if moved["outcome"] != PLANNED:
        return {"outcome": moved["outcome"]}
    if moved["refusal"] is not None:
        dispatch(undo_route(service_id, key, on_alarm))
        return {"outcome": FAILED, "reason": moved["refusal"]}
    done = commit_route(service_id, key)
    dispatch(done["deliveries"])
    unconfigure_elements(service_id, done["removedElements"])
    return {"outcome": REROUTED, "from": done["from"], "to": done["to"]}


@DBOS.step(retries_allowed=True, max_attempts=50, interval_seconds=0.2, backoff_rate=1.0)
def move_service(
    service_id: str, key: str, avoid_links: list[str], avoid_current: bool, on_alarm: bool
) -> Document:
    """Plan (unless the alarm handler already did, or a re-run finds it done), then configure the new
    route: one step, so the switch-over waits for no checkpoint. An element's refusal is returned, not
    retried, so the workflow undoes the plan; a concurrent reroute of the service is waited for."""
    db = runtime.current().db
    with db.read() as session:
        doc = SERVICES.find(session, service_id)
        planned = doc is not None and (doc.get("pendingRoute") or {}).get("key") == key
    outcome: str = PLANNED
    deliveries: list[str] = []
    if not planned:
        with db.session(serialize=resources.LOCK) as session:
            outcome, deliveries = plan(session, service_id, key, avoid_links, avoid_current, on_alarm)
    if outcome != PLANNED:
        return {"outcome": outcome, "deliveries": deliveries, "refusal": None}
    return {"outcome": PLANNED, "deliveries": deliveries, "refusal": _configure(service_id, key)}


def plan(
    session: Session, service_id: str, key: str, avoid_links: list[str], avoid_current: bool, on_alarm: bool
) -> tuple[str, list[str]]:
    """In the caller's transaction: reserve the best new route as the service's ``pendingRoute``.

    Returns the outcome (PLANNED, UNCHANGED, NO_ROUTE, GONE) and the deliveries of any event it queued.
    """
    doc = SERVICES.find(session, service_id)
    if doc is None or doc["state"] != INSTALLED:
        return GONE, []
    pending = doc.get("pendingRoute")
    if pending is not None:
        if pending["key"] == key:
            return PLANNED, []
        raise RerouteBusy(service_id)
    if on_alarm and route_is_up(session, doc):
        return UNCHANGED, []  # an earlier reroute already moved it
    route = best_route(session, doc, frozenset(avoid_links), avoid_current)
    if route is None or list(route.links) == doc["links"]:
        deliveries = set_service_state(session, doc, DISABLED, key) if on_alarm else []
        unchanged = route is not None and not avoid_current
        return (UNCHANGED if unchanged else NO_ROUTE), deliveries
    resources.reserve_bandwidth(session, route, service_id, doc["demandMbps"])
    planned = {"key": key, "route": list(route.elements), "links": list(route.links)}
    SERVICES.put(session, {**doc, "pendingRoute": {**planned, "distanceKm": route.distance_km}})
    return PLANNED, []


def _configure(service_id: str, key: str) -> str | None:
    """Configure the new route: elements new to it first, then those whose neighbours change (this is
    when traffic moves). Every PUT is keyed and idempotent; an element's refusal is returned."""
    old, new = _configurations(service_id, key)
    adagio = _adagio()
    joining = {e: c for e, c in new.items() if e not in old}
    changing = {e: c for e, c in new.items() if e in old and old[e] != c}
    try:
        for phase in (joining, changing):
            _in_parallel(lambda element, config: adagio.configure(element, service_id, config), phase)
    except AdagioError as exc:
        return exc.message
    return None


@DBOS.step(retries_allowed=True, max_attempts=5, interval_seconds=0.2, backoff_rate=2.0)
def undo_route(service_id: str, key: str, on_alarm: bool) -> list[str]:
    """Back to the old route: restore the elements that stayed, clean the new ones, release the plan."""
    old, new = _configurations(service_id, key)
    adagio = _adagio()
    for element, config in old.items():
        if element in new and new[element] != config:
            _tolerate(lambda e=element, c=config: adagio.configure(e, service_id, c))
    for element in new:
        if element not in old:
            _tolerate(lambda e=element: adagio.unconfigure(e, service_id))
    with runtime.current().db.session(serialize=resources.LOCK) as session:
        doc = SERVICES.get(session, service_id)
        pending = doc.get("pendingRoute")
        if pending is None or pending["key"] != key:
            return []  # nothing of this reroute to undo (it never planned, e.g. another one was under way)
        del doc["pendingRoute"]
        extra = [link for link in pending["links"] if link not in doc["links"]]
        resources.release_bandwidth(session, extra, service_id)
        SERVICES.put(session, doc)
        return set_service_state(session, doc, DISABLED, key) if on_alarm else []


@DBOS.step(retries_allowed=True, max_attempts=5, interval_seconds=0.2, backoff_rate=2.0)
def commit_route(service_id: str, key: str) -> Document:
    with runtime.current().db.session(serialize=resources.LOCK) as session:
        doc = SERVICES.get(session, service_id)
        done = next((r for r in doc.get("reroutes", []) if r["key"] == key), None)
        if done is None:
            pending = doc.pop("pendingRoute")
            old_only = [link for link in doc["links"] if link not in pending["links"]]
            resources.release_bandwidth(session, old_only, service_id)
            done = {
                "key": key,
                "time": now_iso(),
                "from": doc["route"],
                "to": pending["route"],
                "wasDisabled": doc.get("operationalState") == DISABLED,
            }
            doc = {
                **doc,
                "route": pending["route"],
                "links": pending["links"],
                "distanceKm": pending["distanceKm"],
                "operationalState": ENABLED,
                "reroutes": [*doc.get("reroutes", []), done],
            }
            SERVICES.put(session, doc)
        event = {"id": service_id, "previousRoute": done["from"], "route": done["to"], "cause": key}
        deliveries = events.announce(
            session, events.REROUTED, {**event, "time": done["time"]}, f"{service_id}:{key}"
        )
        if done["wasDisabled"]:
            deliveries += _announce_state(session, service_id, ENABLED, key)
    removed = [e for e in done["from"] if e not in done["to"]]
    return {"deliveries": deliveries, "removedElements": removed, "from": done["from"], "to": done["to"]}


@DBOS.step(retries_allowed=True, max_attempts=5, interval_seconds=0.5, backoff_rate=2.0)
def unconfigure_elements(service_id: str, elements: list[str]) -> None:
    adagio = _adagio()
    for element in elements:
        _tolerate(lambda e=element: adagio.unconfigure(e, service_id))


def best_route(session: Session, doc: Document, avoid: frozenset[str], avoid_current: bool) -> Route | None:
    """The shortest working route between the service's end elements, or None (also when a UNI is down)."""
    if not all(is_up(SIPS.get(session, ep["sip"])) for ep in doc["endPoints"]):
        return None
    network = graph(session, doc["demandMbps"], doc["id"], avoid)
    current = set(doc["links"]) if avoid_current else set()
    for _a, _z, edge in network.edges(data=True):
        edge["cost"] = edge["distance"] + (_CURRENT_PATH_PENALTY_KM if edge["id"] in current else 0.0)
    a, z = (ep["element"] for ep in doc["endPoints"])
    return route_in(network, a, z, weight="cost")


def route_is_up(session: Session, doc: Document) -> bool:
    """Whether every element, link and end UNI of the service's route works."""
    return (
        all(is_up(NODES.get(session, e)) for e in doc["route"])
        and all(is_up(LINKS.get(session, link)) for link in doc["links"])
        and all(is_up(SIPS.get(session, ep["sip"])) for ep in doc["endPoints"])
    )


def set_service_state(session: Session, doc: Document, state: str, cause: str) -> list[str]:
    """Record the service's operational state and tell SOF when it changed."""
    if doc.get("operationalState", ENABLED) == state:
        return []
    SERVICES.put(session, {**doc, "operationalState": state})
    return _announce_state(session, doc["id"], state, cause)


def _announce_state(session: Session, service_id: str, state: str, cause: str) -> list[str]:
    event = {"id": service_id, "operationalState": state, "cause": cause, "time": now_iso()}
    return events.announce(session, events.OPERATIONAL_STATE_CHANGED, event, f"{service_id}:{cause}:{state}")


def _configurations(service_id: str, key: str) -> tuple[dict[str, Document], dict[str, Document]]:
    """What each element holds for the service on its current route, and will hold on the planned one."""
    with runtime.current().db.read() as session:
        doc = SERVICES.get(session, service_id)
    pending = doc.get("pendingRoute")
    if pending is None or pending["key"] != key:
        return {}, {}
    return element_configurations(doc), element_configurations({**doc, "route": pending["route"]})


def _in_parallel(call: Any, configs: dict[str, Document]) -> None:
    """One PUT per element at once: elements commit independently, so the switch-over takes one commit."""
    if len(configs) <= 1:
        for element, config in configs.items():
            call(element, config)
        return
    with ThreadPoolExecutor(max_workers=len(configs)) as pool:
        for future in [pool.submit(call, element, config) for element, config in configs.items()]:
            future.result()


def _tolerate(call: Any) -> None:
    """Clean-up of an element that refuses (it may be the one that is down) must not block the rest."""
    try:
        call()
    except AdagioError as exc:
        log.warning("element clean-up refused: %s", exc)
