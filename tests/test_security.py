"""OAuth2 client credentials, bearer tokens and MEF 401 bodies."""

from __future__ import annotations

import httpx

from lso.settings import Settings
from tests.bus.test_order_bodies import epl_order


def test_token_by_basic_auth_and_by_form(domain: Settings) -> None:
    basic = httpx.post(
        f"{domain.base_url}/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=("acme", "acme-secret"),
    )
    form = httpx.post(
        f"{domain.base_url}/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": "globex", "client_secret": "globex-secret"},
    )
    assert basic.status_code == 200 and form.status_code == 200
    assert basic.json()["token_type"] == "Bearer" and basic.json()["access_token"].count(".") == 2


def test_wrong_secret_is_refused(domain: Settings) -> None:
    response = httpx.post(
        f"{domain.base_url}/oauth2/token", data={"grant_type": "client_credentials"}, auth=("acme", "nope")
    )
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_client"}


def test_mef_endpoint_without_token_answers_mef_401(domain: Settings) -> None:
    response = httpx.post(f"{domain.base_url}/mefApi/cantata/productOrderingManagement/v6/hub", json={})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/json;charset=utf-8"
    assert response.json()["code"] == "missingCredentials"


def test_forged_token_is_refused(domain: Settings) -> None:
    headers = {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhY21lIn0.c2lnbmF0dXJl"}
    response = httpx.post(
        f"{domain.base_url}/mefApi/cantata/productOrderingManagement/v6/hub", json={}, headers=headers
    )
    assert response.status_code == 401
    assert response.json()["code"] == "invalidCredentials"


ORDERING = "/mefApi/cantata/productOrderingManagement/v6"


def test_a_hub_of_another_party_is_not_found(acme: httpx.Client, globex: httpx.Client) -> None:
    hub = acme.post(f"{ORDERING}/hub", json={"callback": "http://127.0.0.1:9/acme"})
    assert hub.status_code == 201
    assert globex.get(f"{ORDERING}/hub/{hub.json()['id']}").status_code == 404
    assert globex.delete(f"{ORDERING}/hub/{hub.json()['id']}").status_code == 404
    assert acme.get(f"{ORDERING}/hub/{hub.json()['id']}").json()["callback"] == "http://127.0.0.1:9/acme"


def test_orders_and_products_of_another_party_are_not_found(acme: httpx.Client, globex: httpx.Client) -> None:
    order = acme.post(f"{ORDERING}/productOrder", json=epl_order())
    assert order.status_code == 201
    assert globex.get(f"{ORDERING}/productOrder/{order.json()['id']}").status_code == 404
    assert globex.get("/mefApi/cantata/productInventory/v2/product/does-not-exist").status_code == 404
    theirs = {o["id"] for o in globex.get(f"{ORDERING}/productOrder", params={"limit": 1000}).json()}
    assert order.json()["id"] in {
        o["id"] for o in acme.get(f"{ORDERING}/productOrder", params={"limit": 1000}).json()
    }
    assert order.json()["id"] not in theirs


def test_a_customer_cannot_call_legato(acme: httpx.Client) -> None:
    response = acme.get("/mefApi/legato/serviceOrderingManagement/v6/serviceOrder")
    assert response.status_code == 403
    assert response.json()["code"] == "accessDenied"
