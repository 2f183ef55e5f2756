"""Partner on-boarding (MEF 55.0.1 §10.1): the admin API, the durable on-boarding workflow against a real
partner domain, and catalog notifications kept in sync once per eventId."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from lso.bus.partners.registry import PARTNERS
from lso.db import Database
from lso.settings import Settings
from tests.harness import wait_until
from tests.twodomains import PARTNER_BUYER, PartnerDomain

PARTNERS_PATH = "/admin/partners"
CATALOG_LISTENER = "/mefApi/sonata/productCatalogNotifications/v4/listener"


def registration(partner: PartnerDomain, **changes: Any) -> dict[str, Any]:
    client_id, secret = PARTNER_BUYER
    body = {
        "name": f"carrier-{uuid.uuid4().hex[:8]}",
        "sonataUrl": partner.base_url,
        "clientId": client_id,
        "clientSecret": secret,
        "enni": [{"element": "pe-ldn-2", "port": "enni-1", "partnerEnniId": "enni-carrier-x-1"}],
        "policies": {"areas": ["FR/Paris", "FR/Lyon"], "footprintFromSites": True, "priceCeiling": 5000},
    }
    return {**body, **changes}


def settled(admin: httpx.Client, name: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        found: dict[str, Any] = admin.get(f"{PARTNERS_PATH}/{name}").json()
        return found if found["state"] in {"active", "failed"} else None

    result: dict[str, Any] = wait_until(done)
    return result


def test_only_the_administrator_manages_partners(acme: httpx.Client) -> None:
    response = acme.get(PARTNERS_PATH)
    assert response.status_code == 403
    assert response.json()["code"] == "accessDenied"


def test_a_bad_registration_is_422_and_stores_nothing(admin: httpx.Client, partner: PartnerDomain) -> None:
    body = registration(partner, enni=[{"element": "pe-ldn-2", "port": "enni-1"}])
    response = admin.post(PARTNERS_PATH, json=body)
    assert response.status_code == 422
    assert any(issue["propertyPath"].startswith("/enni/0") for issue in response.json())
    assert admin.get(f"{PARTNERS_PATH}/{body['name']}").status_code == 404


def test_wrong_credentials_fail_onboarding_with_the_reason(
    admin: httpx.Client, partner: PartnerDomain
) -> None:
    body = registration(partner, clientSecret="not-the-secret")
    created = admin.post(PARTNERS_PATH, json=body)
    assert created.status_code == 201
    assert "clientSecret" not in created.json()
    found = settled(admin, body["name"])
    assert found["state"] == "failed"
    assert "credentials" in found["onboardingError"]
    assert found["productOffering"] == []


def test_onboarding_imports_the_catalog_and_the_sites(
    admin: httpx.Client, sonata_partner: PartnerDomain
) -> None:
    body = registration(sonata_partner)
    assert admin.post(PARTNERS_PATH, json=body).status_code == 201
    found = settled(admin, body["name"])
    assert found["state"] == "active", found.get("onboardingError")
    types = {o["productType"] for o in found["productOffering"]}
    assert "urn:mef:lso:spec:sonata:access-eline-ovc:v5.0.0:all" in types
    assert all(o["billingTerms"] for o in found["productOffering"])
    assert found["productSpecification"]
    assert found["site"] and {s["area"] for s in found["site"]} <= {"FR/Paris", "FR/Lyon"}
    assert set(found["hub"]) == {"productCatalog", "productOrdering"}
    listed = admin.get(PARTNERS_PATH).json()
    assert body["name"] in {p["id"] for p in listed}


def test_a_catalog_event_delivered_twice_is_handled_once(
    admin: httpx.Client, sonata_partner: PartnerDomain, domain: Settings
) -> None:
    body = registration(sonata_partner)
    admin.post(PARTNERS_PATH, json=body)
    partner_id = body["name"]
    offering_id = settled(admin, partner_id)["productOffering"][0]["id"]
    db = Database(domain.database_url)
    try:
        _rename_offering(db, partner_id, offering_id, "stale")
        href = f"{sonata_partner.base_url}/mefApi/sonata/productCatalog/v4/productOffering/{offering_id}"
        event = {
            "eventId": f"event-{uuid.uuid4()}",
            "eventTime": "2026-01-01T00:00:00Z",
            "eventType": "productOfferingAttributeValueChangeEvent",
            "event": {"id": offering_id, "href": href},
        }
        url = f"{domain.base_url}{CATALOG_LISTENER}/{event['eventType']}"
        assert httpx.post(url, json=event).status_code == 204
        wait_until(lambda: _offering_name(db, partner_id, offering_id) != "stale")
        _rename_offering(db, partner_id, offering_id, "stale again")
        assert httpx.post(url, json=event).status_code == 204  # the same eventId: already handled
        assert httpx.post(url, json={**event, "eventId": f"event-{uuid.uuid4()}"}).status_code == 204
        wait_until(lambda: _offering_name(db, partner_id, offering_id) != "stale again")
    finally:
        db.dispose()


def _rename_offering(db: Database, partner_id: str, offering_id: str, name: str) -> None:
    with db.session() as session:
        partner = PARTNERS.get(session, partner_id)
        partner["productOffering"] = [
            {**o, "name": name} if o["id"] == offering_id else o for o in partner["productOffering"]
        ]
        PARTNERS.put(session, partner)


def _offering_name(db: Database, partner_id: str, offering_id: str) -> str:
    with db.read() as session:
        partner = PARTNERS.get(session, partner_id)
    return str(next(o["name"] for o in partner["productOffering"] if o["id"] == offering_id))
