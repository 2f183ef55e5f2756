"""OAuth2 client credentials, bearer tokens and MEF 401 bodies."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from lso.mef.client import authenticated
from lso.security import client as security_client
from lso.settings import Settings
from tests.bus.test_order_bodies import epl_order

CATALOG = "/mefApi/cantata/productCatalog/v4"


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


def test_clients_with_the_same_credentials_share_one_token(
    domain: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client made per call (partner clients are) does not buy a token per call."""
    bought: list[str] = []
    buy = httpx.post

    def counted(url: str, **kwargs: Any) -> httpx.Response:
        if kwargs["auth"][0] in ("globex", "acme"):  # (not the domain's own entities, in this process)
            bought.append(kwargs["auth"][0])
        return buy(url, **kwargs)

    monkeypatch.setattr(security_client.httpx, "post", counted)
    monkeypatch.setattr(security_client, "_GRANTS", {})  # no token held from an earlier test
    for client_id in ("globex", "globex", "acme"):
        with authenticated(domain.base_url, client_id, f"{client_id}-secret") as client:
            assert client.get(f"{CATALOG}/productOffering").status_code == 200
    assert bought == ["globex", "acme"]
