"""SOF's INTERLUDE client: the partner's share of an off-net EPL ordered SOF to SOF (MEF 55.0.1 §10.2
step 9b-a), and the INTERLUDE calls the end-to-end activation test makes (:mod:`lso.sof.end_to_end`).

BUS decides per partner (policy ``via: interlude``) and tells SOF in the LEGATO service order: the EVC
item's ``service.partnerShare`` names the partner, its INTERLUDE base URL and the client credentials it
issued us, the partner's site for the far UNI and its id of the ENNI. The credentials are kept in SOF's
store when the order arrives (:func:`keep_partner_access`), never in the order.

Ordering is durable and placed once: every INTERLUDE order has an ``externalId`` derived from our order
and item (``interlude:<our order>:<our item>`` for the share itself; :mod:`lso.sof.interlude_changes` for
its modification, deletion and withdrawal), and a re-run step looks it up by that before placing it. The
partner's events, delivered to our INTERLUDE listener and deduplicated by eventId, only wake the workflow
that placed the order (``DBOS.send``); after every wake-up or timeout it reads the order back, so a
repeated, late or forged event changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from dbos import DBOS
from fastapi import APIRouter

from lso.mef import runtime
from lso.mef.client import MefApiClient, MefApiError, authenticated
from lso.mef.dates import later
from lso.mef.notifications import NotificationApi, listener_router
from lso.mef.store import Document, Store
from lso.sof.activation import remote_step

SHARE_KEY = "partnerShare"
ACCESS = Store("sof.partnerAccess", "partnerAccess")
"""Per partner: its INTERLUDE base URL and the client credentials it issued to us."""
LINKS = Store("sof.interludeOrder", "interludeOrder")
"""Our record of each INTERLUDE order, keyed by the partner's order id: which of our items it serves."""
HUBS = Store("sof.interludeHub", "interludeHub")

EVENTS = NotificationApi("interlude", "serviceOrderingNotification", "v1")
EVENT_TYPES = ("serviceOrderStateChangeEvent", "serviceOrderItemStateChangeEvent")
ORDERING = "/mefApi/interlude/serviceOrderingManagement/v1"
INVENTORY = "/mefApi/interlude/serviceInventory/v2"
TESTING = "/mefApi/interlude/serviceFunctionTesting/v3"
WAKE_TOPIC = "interlude"
WAIT_S = 5.0
MAX_WAITS = 1440  # two hours of silence from the partner fail our item rather than leave it waiting
FINAL_STATES = {"completed", "failed", "partial", "rejected"}
SERVICE_UNI = "urn:mef:lso:spec:service:carrier-ethernet-subscriber-uni:v1.0.0:all"
UNI_ITEM, OVC_ITEM = "uni", "ovc"
P = ParamSpec("P")
R = TypeVar("R")


class InterludeError(MefApiError):
    """The partner answered with an error; 5xx, 429 and transport errors are worth retrying, a 4xx
    is not."""

    api = "INTERLUDE"


def retryable(exc: BaseException) -> bool:
    return not isinstance(exc, InterludeError) or exc.retryable


def partner_step(name: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A step that calls a partner over INTERLUDE: retried with backoff while the partner is down or
    answers 5xx (the call must be safe to repeat); a 4xx is the partner's final word."""
    return remote_step(name, attempts=8, interval_s=1.0, should_retry=retryable)


def wait_for(
    first: Document, read: Callable[[], Document], final: set[str], interval_s: float, max_waits: int
) -> Document:
    """In a workflow: ``read`` the partner's resource again after every wake-up (an event about it, see
    :func:`on_order_event`) or ``interval_s`` of silence, until its ``state`` is final or the waits run
    out. A repeated, late or forged event only makes it read sooner."""
    current, waits = first, 0
    while current.get("state") not in final and waits < max_waits:
        DBOS.recv(WAKE_TOPIC, timeout_seconds=interval_s)
        current = read()
        waits += 1
    return current


def keep_partner_access(body: Document) -> Document:
    """Store the partner credentials a LEGATO order item carries and return the order without secrets."""
    items = []
    for item in body.get("serviceOrderItem") or []:
        share = (item.get("service") or {}).get(SHARE_KEY) if isinstance(item, dict) else None
        if isinstance(share, dict) and "clientSecret" in share:
            access = {k: share.get(k) for k in ("interludeUrl", "clientId", "clientSecret")}
            with runtime.current().db.session() as session:
                known = ACCESS.find(session, str(share.get("partnerId")))
                if known is None:
                    ACCESS.add(session, {"id": str(share.get("partnerId")), **access})
                elif {k: known.get(k) for k in access} != access:
                    ACCESS.put(session, {**known, **access})
            public = {k: v for k, v in share.items() if k != "clientSecret"}
            item = {**item, "service": {**item["service"], SHARE_KEY: public}}
        items.append(item)
    return {**body, "serviceOrderItem": items} if items else body


def share_of(order: Document, item_id: str) -> Document | None:
    """The partner share BUS named on an EVC item of a LEGATO order (INTERLUDE orders never chain on)."""
    if ORDERING in str(order.get("href", "")):
        return None
    item: Document = next((i for i in order["serviceOrderItem"] if i["id"] == item_id), {})
    share = (item.get("service") or {}).get(SHARE_KEY)
    return share if isinstance(share, dict) else None


class InterludeClient(MefApiClient):
    """Kylie INTERLUDE serviceOrdering, serviceInventory and serviceFunctionTesting of one partner."""

    error = InterludeError

    def __init__(self, access: Document) -> None:
        """The client of the partner whose INTERLUDE URL and credentials ``access`` holds."""
        super().__init__(
            authenticated(str(access["interludeUrl"]), access["clientId"], access["clientSecret"])
        )

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON answer of any INTERLUDE operation (:mod:`lso.sof.assurance.partner` builds on it)."""
        return self._json(method, path, **kwargs)

    def order_by_external_id(self, external_id: str) -> Document | None:
        found = self._list(f"{ORDERING}/serviceOrder", {"externalId": external_id})
        return found[0] if found else None

    def create_order(self, body: Document) -> Document:
        return dict(self._json("POST", f"{ORDERING}/serviceOrder", json=body))

    def get_order(self, order_id: str) -> Document:
        return self._get(f"{ORDERING}/serviceOrder/{order_id}")

    def register_hub(self, callback: str) -> Document:
        return dict(self._json("POST", f"{ORDERING}/hub", json={"callback": callback}))

    def services_of(self, external_id: str) -> list[Document]:
        return self._list(f"{INVENTORY}/service", {"externalId": external_id})

    def share_services(self, link: Document) -> dict[str, Document]:
        """The partner's services its order ``link`` made, by the item that made them (uni, ovc)."""
        return {
            ref.get("itemId"): service
            for service in self.services_of(link["externalId"])
            for ref in service.get("serviceOrderItem", [])
            if ref.get("serviceOrderId") == link["id"]
        }

    def test_jobs(self, name: str) -> list[Document]:
        return self._list(f"{TESTING}/testJob", {"name": name})

    def create_test_job(self, body: Document) -> Document:
        return dict(self._json("POST", f"{TESTING}/testJob", json=body))

    def test_job(self, job_id: str) -> Document:
        return self._get(f"{TESTING}/testJob/{job_id}")

    def test_results(self, job_id: str) -> list[Document]:
        return self._list(f"{TESTING}/testResult", {"testJobId": job_id})


def partner_client(partner_id: str) -> InterludeClient:
    with runtime.current().db.read() as session:
        return InterludeClient(ACCESS.get(session, partner_id))


def external_id(order_id: str, item_id: str) -> str:
    return f"interlude:{order_id}:{item_id}"


def order_share(order_id: str, item_id: str, share: Document, evc: Document) -> Document:
    """In the activation workflow: order the partner's share and wait for it to end; the final link."""
    key = external_id(order_id, item_id)
    body = order_body(key, share, evc)
    return run_order(share["partnerId"], f"sof-activation:{order_id}", key, body, (order_id, item_id))


def run_order(
    partner_id: str, workflow_id: str, key: str, body: Document, serves: tuple[str, str]
) -> Document:
    """In workflow ``workflow_id``: place ``body`` at the partner once (``externalId`` ``key``) and wait
    for it to end; the final link. ``serves`` is our order and item it is placed for."""
    try:
        register_hub(partner_id)
        link = place_order(partner_id, workflow_id, key, body, serves)
    except Exception as exc:  # refused, or the partner unreachable after every retry
        return {"state": "failed", "reason": f"the INTERLUDE order could not be placed: {exc}"}
    return wait_for(link, lambda: read_order(partner_id, link["id"]), FINAL_STATES, WAIT_S, MAX_WAITS)


@partner_step("sof.interlude.register_hub")
def register_hub(partner_id: str) -> None:
    """Our listener on the partner's INTERLUDE ordering hub, once per partner."""
    with runtime.current().db.read() as session:
        if HUBS.find(session, partner_id) is not None:
            return
    client = partner_client(partner_id)
    try:
        hub = client.register_hub(runtime.current().settings.base_url)
    finally:
        client.close()
    with runtime.current().db.session() as session:
        if HUBS.find(session, partner_id) is None:
            HUBS.add(session, {"id": partner_id, "hubId": hub["id"]})


@partner_step("sof.interlude.place_order")
def place_order(
    partner_id: str, workflow_id: str, key: str, body: Document, serves: tuple[str, str]
) -> Document:
    """The partner's order of ``externalId`` ``key``: the one a first run placed, or ``body`` now."""
    client = partner_client(partner_id)
    try:
        placed = client.order_by_external_id(key) or client.create_order(body)
    finally:
        client.close()
    link = {**_link(placed, partner_id, serves), "workflowId": workflow_id}
    with runtime.current().db.session() as session:
        if LINKS.find(session, link["id"]) is None:
            LINKS.add(session, link)
    return link


def change_body(key: str, description: str, items: list[Document]) -> Document:
    """A Kylie ``ServiceOrder_Create`` that modifies or deletes the partner's services at once."""
    return {
        "externalId": key,
        "description": description,
        "requestedStartDate": later(days=0),
        "requestedCompletionDate": later(days=0),
        "serviceOrderItem": items,
    }


def order_body(key: str, share: Document, evc: Document) -> Document:
    """The partner's share as a Kylie ``ServiceOrder_Create``: a UNI at its site and an OVC (an EVC
    service with our EVC's bandwidth profile) from it to its side of the ENNI."""
    configuration = {**evc["serviceConfiguration"], "identifier": f"OVC-{key[-24:]}"}
    return {
        "externalId": key,
        "description": f"Partner share of {key}",
        "requestedStartDate": later(days=0),
        "requestedCompletionDate": later(days=10),
        "serviceOrderItem": [
            {
                "id": UNI_ITEM,
                "action": "add",
                "service": {
                    "place": [
                        {
                            "role": "INSTALL_LOCATION",
                            "place": {"@type": "GeographicSiteRef", "id": share["siteId"]},
                        }
                    ],
                    "serviceConfiguration": {
                        "@type": SERVICE_UNI,
                        "identifier": f"UNI-{key[-24:]}",
                        "maximumFrameSize": configuration.get("maximumFrameSize", 1522),
                    },
                },
            },
            {
                "id": OVC_ITEM,
                "action": "add",
                "service": {
                    "serviceConfiguration": configuration,
                    "serviceRelationship": [
                        {"relationshipType": "CONNECTS_TO_ENNI", "service": {"id": share["partnerEnniId"]}}
                    ],
                },
                "serviceOrderItemRelationship": [
                    {"relationshipType": "CONNECTS_TO_UNI", "orderItem": {"itemId": UNI_ITEM}}
                ],
            },
        ],
    }


def _link(order: Document, partner_id: str, serves: tuple[str, str]) -> Document:
    errors = [e.get("value") for e in order.get("terminationError") or [] if isinstance(e, dict)]
    for item in order.get("serviceOrderItem") or []:
        errors += [e.get("value") for e in item.get("terminationError") or [] if isinstance(e, dict)]
    return {
        "id": order["id"],
        "state": order.get("state"),
        "partnerId": partner_id,
        "externalId": order.get("externalId"),
        "serviceOrderId": serves[0],
        "serviceOrderItemId": serves[1],
        "reason": "; ".join(str(e) for e in errors if e) or None,
    }


@partner_step("sof.interlude.read_order")
def read_order(partner_id: str, partner_order_id: str) -> Document:
    with runtime.current().db.read() as session:
        link = LINKS.get(session, partner_order_id)
    client = partner_client(partner_id)
    try:
        order = client.get_order(partner_order_id)
    finally:
        client.close()
    read = {**link, **_link(order, partner_id, (link["serviceOrderId"], link["serviceOrderItemId"]))}
    if read != link:
        with runtime.current().db.session() as session:
            LINKS.put(session, read)
    return read


def listener() -> APIRouter:
    """Our INTERLUDE listener: an event about a partner order we placed wakes the activation it serves."""
    return listener_router(EVENTS, dict.fromkeys(EVENT_TYPES, on_order_event))


def on_order_event(body: Document) -> None:
    event = body.get("event")
    partner_order_id = event.get("id") if isinstance(event, dict) else None
    if not isinstance(partner_order_id, str):
        return
    with runtime.current().db.read() as session:
        link = LINKS.find(session, partner_order_id)
    if link is not None and link.get("workflowId"):
        DBOS.send(link["workflowId"], str(body.get("eventType")), topic=WAKE_TOPIC)
