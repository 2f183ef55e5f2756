"""SOF's INTERLUDE client: the partner's share of an off-net EPL ordered SOF to SOF (MEF 55.0.1 §10.2
step 9b-a), and the INTERLUDE calls the end-to-end activation test makes (:mod:`lso.sof.end_to_end`).

BUS decides per partner (policy ``via: interlude``) and tells SOF in the LEGATO service order: the EVC
item's ``service.partnerShare`` names the partner, its INTERLUDE base URL and the client credentials it
issued us, the partner's site for the far UNI and its id of the ENNI. The credentials are kept in SOF's
store when the order arrives (:func:`keep_partner_access`), never in the order.

Ordering is durable and placed once: the INTERLUDE order's ``externalId`` is ``interlude:<our order>:<our
item>``, and a re-run step looks it up by that before placing it. The partner's events, delivered to our
INTERLUDE listener and deduplicated by eventId, only wake the activation workflow (``DBOS.send``); after
every wake-up or timeout it reads the order back, so a repeated, late or forged event changes nothing.
"""

from __future__ import annotations

from typing import Any

import httpx
from dbos import DBOS
from fastapi import APIRouter

from lso.mef import runtime
from lso.mef.dates import later
from lso.mef.notifications import NotificationApi, listener_router
from lso.mef.store import Document, Store
from lso.security.client import ClientCredentials

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


class InterludeError(Exception):
    """The partner answered with an error; 5xx and transport errors are worth retrying, a 4xx is not."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"INTERLUDE {status}: {body[:300]}")
        self.status = status

    @property
    def retryable(self) -> bool:
        return self.status >= 500


def retryable(exc: BaseException) -> bool:
    return not isinstance(exc, InterludeError) or exc.retryable


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


class InterludeClient:
    """Kylie INTERLUDE serviceOrdering, serviceInventory and serviceFunctionTesting of one partner."""

    def __init__(self, access: Document) -> None:
        url = str(access["interludeUrl"]).rstrip("/")
        auth = ClientCredentials(f"{url}/oauth2/token", access["clientId"], access["clientSecret"])
        self._http = httpx.Client(base_url=url, auth=auth, timeout=30)

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise InterludeError(response.status_code, response.text)
        return response.json()

    def order_by_external_id(self, external_id: str) -> Document | None:
        found = self._call("GET", f"{ORDERING}/serviceOrder", params={"externalId": external_id})
        return found[0] if found else None

    def create_order(self, body: Document) -> Document:
        created: Document = self._call("POST", f"{ORDERING}/serviceOrder", json=body)
        return created

    def get_order(self, order_id: str) -> Document:
        order: Document = self._call("GET", f"{ORDERING}/serviceOrder/{order_id}")
        return order

    def register_hub(self, callback: str) -> Document:
        hub: Document = self._call("POST", f"{ORDERING}/hub", json={"callback": callback})
        return hub

    def services_of(self, external_id: str) -> list[Document]:
        found: list[Document] = self._call("GET", f"{INVENTORY}/service", params={"externalId": external_id})
        return found

    def test_jobs(self, name: str) -> list[Document]:
        found: list[Document] = self._call("GET", f"{TESTING}/testJob", params={"name": name})
        return found

    def create_test_job(self, body: Document) -> Document:
        created: Document = self._call("POST", f"{TESTING}/testJob", json=body)
        return created

    def test_job(self, job_id: str) -> Document:
        job: Document = self._call("GET", f"{TESTING}/testJob/{job_id}")
        return job

    def test_results(self, job_id: str) -> list[Document]:
        found: list[Document] = self._call("GET", f"{TESTING}/testResult", params={"testJobId": job_id})
        return found


def partner_client(partner_id: str) -> InterludeClient:
    with runtime.current().db.read() as session:
        return InterludeClient(ACCESS.get(session, partner_id))


def external_id(order_id: str, item_id: str) -> str:
    return f"interlude:{order_id}:{item_id}"


def order_share(order_id: str, item_id: str, share: Document, evc: Document) -> Document:
    """In the activation workflow: order the partner's share and wait for it to end; the final link."""
    try:
        register_hub(share["partnerId"])
        link = place_order(order_id, item_id, share, evc)
    except Exception as exc:  # refused, or the partner unreachable after every retry
        return {"state": "failed", "reason": f"the INTERLUDE order could not be placed: {exc}"}
    waits = 0
    while link["state"] not in FINAL_STATES and waits < MAX_WAITS:
        DBOS.recv(WAKE_TOPIC, timeout_seconds=WAIT_S)
        link = read_order(share["partnerId"], link["id"])
        waits += 1
    return link


@DBOS.step(
    name="sof.interlude.register_hub",
    retries_allowed=True,
    max_attempts=8,
    interval_seconds=1.0,
    should_retry=retryable,
)
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


@DBOS.step(
    name="sof.interlude.place_order",
    retries_allowed=True,
    max_attempts=8,
    interval_seconds=1.0,
    backoff_rate=2.0,
    should_retry=retryable,
)
def place_order(order_id: str, item_id: str, share: Document, evc: Document) -> Document:
    key = external_id(order_id, item_id)
    client = partner_client(share["partnerId"])
    try:
        placed = client.order_by_external_id(key) or client.create_order(order_body(key, share, evc))
    finally:
        client.close()
    link = _link(placed, share["partnerId"], order_id, item_id)
    with runtime.current().db.session() as session:
        if LINKS.find(session, link["id"]) is None:
            LINKS.add(session, link)
    return link


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


def _link(order: Document, partner_id: str, order_id: str, item_id: str) -> Document:
    errors = [e.get("value") for e in order.get("terminationError") or [] if isinstance(e, dict)]
    for item in order.get("serviceOrderItem") or []:
        errors += [e.get("value") for e in item.get("terminationError") or [] if isinstance(e, dict)]
    return {
        "id": order["id"],
        "state": order.get("state"),
        "partnerId": partner_id,
        "externalId": order.get("externalId"),
        "serviceOrderId": order_id,
        "serviceOrderItemId": item_id,
        "reason": "; ".join(str(e) for e in errors if e) or None,
    }


@DBOS.step(
    name="sof.interlude.read_order",
    retries_allowed=True,
    max_attempts=8,
    interval_seconds=1.0,
    backoff_rate=2.0,
    should_retry=retryable,
)
def read_order(partner_id: str, partner_order_id: str) -> Document:
    with runtime.current().db.read() as session:
        link = LINKS.get(session, partner_order_id)
    client = partner_client(partner_id)
    try:
        read = _link(
            client.get_order(partner_order_id), partner_id, link["serviceOrderId"], link["serviceOrderItemId"]
        )
    finally:
        client.close()
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
    if link is not None:
        DBOS.send(f"sof-activation:{link['serviceOrderId']}", str(body.get("eventType")), topic=WAKE_TOPIC)
