"""The httpx side of OAuth2 client credentials, used by every IRP client."""

from __future__ import annotations

import functools
import ssl
import threading
import time
from collections.abc import Generator
from dataclasses import dataclass, field

import httpx

_REFRESH_MARGIN_S = 60


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for every client: httpx builds one per client otherwise, loading the CA bundle each
    time (tens of milliseconds, hundreds on a busy host), and partner clients are made per call."""
    return httpx.create_ssl_context()


@dataclass
class _Grant:
    """The token last bought with one set of credentials, shared by every client holding them."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    token: str = ""
    expires: float = 0.0


_GRANTS: dict[tuple[str, str, str], _Grant] = {}
_GRANTS_LOCK = threading.Lock()


def _grant(token_url: str, client_id: str, client_secret: str) -> _Grant:
    with _GRANTS_LOCK:
        return _GRANTS.setdefault((token_url, client_id, client_secret), _Grant())


class ClientCredentials(httpx.Auth):
    """Sends a bearer token from ``token_url``, bought when none is held or it expires. Clients with the
    same credentials share the token: a client made per call would otherwise buy one per call, and the
    server hashes the secret on every purchase."""

    def __init__(self, token_url: str, client_id: str, client_secret: str) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self._grant = _grant(token_url, client_id, client_secret)

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        sent = self._current(stale="")
        request.headers["Authorization"] = f"Bearer {sent}"
        response = yield request
        if response.status_code == 401:
            request.headers["Authorization"] = f"Bearer {self._current(stale=sent)}"
            yield request

    def _current(self, stale: str) -> str:
        """The token to send; a new one when none is held, it expired, or it is ``stale`` (refused) —
        unless another client has already replaced the refused one."""
        grant = self._grant
        with grant.lock:
            if not grant.token or time.monotonic() > grant.expires or grant.token == stale:
                response = httpx.post(
                    self.token_url,
                    data={"grant_type": "client_credentials"},
                    auth=(self.client_id, self.client_secret),
                    timeout=10,
                    verify=tls_context(),
                )
                response.raise_for_status()
                body = response.json()
                grant.token = body["access_token"]
                grant.expires = time.monotonic() + float(body.get("expires_in", 300)) - _REFRESH_MARGIN_S
            return grant.token
