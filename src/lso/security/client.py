"""The httpx side of OAuth2 client credentials, used by every IRP client."""

from __future__ import annotations

import threading
import time
from collections.abc import Generator

import httpx

_REFRESH_MARGIN_S = 60


class ClientCredentials(httpx.Auth):
    """Fetches a token from ``token_url`` when needed and sends it as a bearer token."""

    def __init__(self, token_url: str, client_id: str, client_secret: str) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self._token = ""
        self._expires = 0.0
        self._lock = threading.Lock()

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._current(refresh=False)}"
        response = yield request
        if response.status_code == 401:
            request.headers["Authorization"] = f"Bearer {self._current(refresh=True)}"
            yield request

    def _current(self, refresh: bool) -> str:
        with self._lock:
            if refresh or not self._token or time.monotonic() > self._expires:
                response = httpx.post(
                    self.token_url,
                    data={"grant_type": "client_credentials"},
                    auth=(self.client_id, self.client_secret),
                    timeout=10,
                )
                response.raise_for_status()
                body = response.json()
                self._token = body["access_token"]
                self._expires = time.monotonic() + float(body.get("expires_in", 300)) - _REFRESH_MARGIN_S
            return self._token
