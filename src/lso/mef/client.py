"""What every client of a MEF LSO API shares, whichever entity or party holds it: OAuth2
client-credentials authentication, the mapping of an error answer to an exception carrying the MEF
error body, and offset/limit paging of list operations (``X-Total-Count``).

The IRP clients (LEGATO, SONATA, PRESTO, ADAGIO, INTERLUDE) and the customer SDK add only their APIs'
paths and operations on top, and name the exception they raise, so all of them read errors and pages the
same way.
"""

from __future__ import annotations

from collections.abc import Container
from typing import Any, ClassVar, Self

import httpx

from lso.security.client import ClientCredentials, tls_context

Json = dict[str, Any]

POOL = httpx.Limits(max_connections=100, max_keepalive_connections=100, keepalive_expiry=60)
"""Connections kept for reuse: httpx keeps 20 for 5 s by default, fewer than a busy domain's entities use
at once and shorter than the calls of a periodic loop apart (a domain keeps them 120 s, domain.py)."""

PAGE_SIZE = 100
"""The ``limit`` asked of each page: the MEF default page, so no seller throttles it."""


class MefApiError(Exception):
    """An error answer: ``status`` (0 when the server was not reached) and the MEF error body (an
    object, or an array for 422; the text when the answer is not JSON) of ``operation``."""

    api: ClassVar[str] = "MEF API"
    """Who answered, for the message: subclasses name their API."""

    def __init__(self, status: int, body: Any, operation: str = "") -> None:
        self.status = status
        self.body = body
        self.operation = operation
        who = " ".join(part for part in (self.api, operation) if part)
        super().__init__(f"{who} answered {status}: {self.message}")

    @property
    def _first(self) -> Any:
        return self.body[0] if isinstance(self.body, list) and self.body else self.body

    @property
    def code(self) -> str:
        """The MEF error ``code`` (of the first error of an array), or ``""``."""
        return str(self._first.get("code", "")) if isinstance(self._first, dict) else ""

    @property
    def message(self) -> str:
        """The MEF error ``message`` (or ``reason``) of the first error, else the whole body."""
        if isinstance(self._first, dict):
            found = self._first.get("message") or self._first.get("reason")
            if found:
                return str(found)
        return str(self.body)

    @property
    def not_found(self) -> bool:
        return self.status == 404

    @property
    def retryable(self) -> bool:
        """Worth another attempt later: the server is down, overloaded or failed on its side."""
        return self.status == 0 or self.status == 429 or self.status >= 500


def authenticated(
    base_url: str, client_id: str, client_secret: str, *, token_url: str | None = None, timeout: float = 30
) -> httpx.Client:
    """An HTTP client of ``base_url`` that buys OAuth2 client-credentials tokens (from its
    ``/oauth2/token`` unless ``token_url`` says otherwise)."""
    base_url = base_url.rstrip("/")
    auth = ClientCredentials(token_url or f"{base_url}/oauth2/token", client_id, client_secret)
    return httpx.Client(base_url=base_url, auth=auth, timeout=timeout, verify=tls_context(), limits=POOL)


class MefApiClient:
    """The HTTP transport to one MEF API server; subclasses name the error type they raise."""

    error: ClassVar[type[MefApiError]] = MefApiError

    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _send(
        self,
        method: str,
        path: str,
        *,
        expect: Container[int] | None = None,
        operation: str | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """The answer when its status is in ``expect`` (any 2xx when not given), else :attr:`error`
        for ``operation`` (``<method> <path>`` when not given)."""
        response = self.http.request(method, path, **kwargs)
        expected = response.is_success if expect is None else response.status_code in expect
        if expected:
            return response
        try:
            body: Any = response.json()
        except ValueError:
            body = response.text
        raise self.error(response.status_code, body, operation or f"{method} {path}")

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON an operation answered (``None`` for an empty answer such as 204)."""
        response = self._send(method, path, **kwargs)
        return response.json() if response.content else None

    def _get(self, path: str, **kwargs: Any) -> Json:
        body: Json = self._send("GET", path, expect=(200,), **kwargs).json()
        return body

    def _list(self, path: str, filters: dict[str, str] | None = None) -> list[Json]:
        """Every page of a list (offset/limit paging, X-Total-Count)."""
        items: list[Json] = []
        while True:
            params = {**(filters or {}), "offset": str(len(items)), "limit": str(PAGE_SIZE)}
            response = self._send("GET", path, expect=(200,), params=params)
            page: list[Json] = response.json()
            items.extend(page)
            total = int(response.headers.get("X-Total-Count", len(items)))
            if not page or len(items) >= total:
                return items

    def _post(self, path: str, body: Json) -> Json:
        created: Json = self._send("POST", path, expect=(201,), json=body).json()
        return created

    def _act(self, method: str, path: str) -> None:
        """An operation answered 204 No Content (delete, suspend, resume)."""
        self._send(method, path, expect=(204,))
