"""OAuth2 client credentials, bearer tokens and MEF 401 bodies."""

from __future__ import annotations

import httpx

from lso.settings import Settings


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
