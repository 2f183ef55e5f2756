"""Step 6 across two domains: the partner's share of an off-net EPL ordered over SONATA as a durable
workflow, the partner's order ids kept, a retry never ordering twice, and a partner notification delivered
twice changing nothing."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from dbos import DBOS

from lso.bus.partners.ordering import PARTNER_ORDERS, start_partner_order, workflow_id
from lso.bus.sonata_client import SonataClient
from lso.db import Database
from lso.settings import Settings
from tests.bus.partners.test_onboarding import PARTNERS_PATH, registration, settled
from tests.twodomains import PARTNER_BUYER, PartnerDomain

ORDER_LISTENER = "/mefApi/sonata/productOrderingNotification/v11/listener"
PARTNER_SITE = "site-par-bercy"
DUE = "2030-01-15T12:00:00Z"


def onboarded(admin: httpx.Client, partner: PartnerDomain) -> str:
    return registered(admin, registration(partner))


def registered(admin: httpx.Client, body: dict[str, Any]) -> str:
    """The name of the partner registered with ``body``, once its on-boarding has made it active."""
    assert admin.post(PARTNERS_PATH, json=body).status_code == 201
    assert settled(admin, body["name"])["state"] == "active"
    return str(body["name"])


def partner_orders(partner: PartnerDomain, external_id: str) -> list[dict[str, Any]]:
    client = SonataClient.connect(partner.base_url, *PARTNER_BUYER)
    try:
        found = client.http.get(
            "/mefApi/sonata/productOrderingManagement/v11/productOrder", params={"externalId": external_id}
        )
        return list(found.json())
    finally:
        client.close()


def ordered(order_id: str, partner_id: str, cir_mbps: float) -> dict[str, Any]:
    """The partner order link of the EVC item of ``order_id``, once its workflow has finished."""
    handle = start_partner_order(order_id, "evc", partner_id, PARTNER_SITE, cir_mbps, 0.0, DUE)
    link: dict[str, Any] = handle.get_result()
    return link


def stored_link(domain: Settings, link_id: str) -> dict[str, Any]:
    """The partner order link as BUS keeps it in the domain's database."""
    db = Database(domain.database_url)
    try:
        with db.read() as session:
            return PARTNER_ORDERS.get(session, link_id)
    finally:
        db.dispose()


def test_the_partner_order_completes_once_with_its_ids_kept(
    admin: httpx.Client, sonata_partner: PartnerDomain, domain: Settings
) -> None:
    partner_id = onboarded(admin, sonata_partner)
    order_id = f"order-{uuid.uuid4()}"
    link = ordered(order_id, partner_id, 100.0)
    assert link["state"] == "completed", link
    assert link["productOrderId"] == order_id and link["productOrderItemId"] == "evc"
    assert {i["id"] for i in link["partnerOrderItem"]} == {"partner-uni", "partner-ovc"}
    # starting it again (a retry, a recovery) is the same workflow: no second partner order
    assert ordered(order_id, partner_id, 100.0) == link
    assert [o["id"] for o in partner_orders(sonata_partner, workflow_id(order_id, "evc"))] == [link["id"]]
    assert stored_link(domain, link["id"]) == link


def test_a_partner_event_delivered_twice_changes_nothing(
    admin: httpx.Client, sonata_partner: PartnerDomain, domain: Settings
) -> None:
    partner_id = onboarded(admin, sonata_partner)
    order_id = f"order-{uuid.uuid4()}"
    link = ordered(order_id, partner_id, 50.0)
    event = {
        "eventId": f"forged-{uuid.uuid4()}",
        "eventTime": "2026-01-01T00:00:00Z",
        "eventType": "productOrderStateChangeEvent",
        "event": {"id": link["id"], "state": "failed"},  # a stale or forged state: only a read-back counts
    }
    url = f"{domain.base_url}{ORDER_LISTENER}/productOrderStateChangeEvent"
    assert httpx.post(url, json=event).status_code == 204
    assert httpx.post(url, json=event).status_code == 204
    assert stored_link(domain, link["id"]) == link
    status = DBOS.get_workflow_status(workflow_id(order_id, "evc"))
    assert status is not None and status.status == "SUCCESS"
