"""What every customer SDK client of a MEF LSO seller shares: OAuth2 client-credentials authentication,
the mapping of MEF error answers to an exception, and offset/limit paging of list operations.

:class:`lso.customer.cantata_client.CantataClient` and :class:`lso.customer.allegro_client.AllegroClient`
add only their APIs' paths and operations on top, so both behave the same against any seller.
"""

from __future__ import annotations

from typing import Any, Self

import httpx

from lso.security.client import ClientCredentials

Json = dict[str, Any]

PAGE_SIZE = 100
"""The ``limit`` asked of each page: the MEF default page, so no seller throttles it."""


class MefApiError(Exception):
    """A MEF error answer: ``status`` and the MEF error body (an object, or an array for 422)."""

    def __init__(self, status: int, body: Any, operation: str) -> None:
        self.status = status
        self.body = body
        super().__init__(f"{operation} answered {status}: {body}")


class MefApiClient:
    """The HTTP transport of one customer to one seller; subclasses name the error type they raise."""

    error: type[MefApiError] = MefApiError

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        timeout: float = 30,
        http: httpx.Client | None = None,
    ) -> None:
        base_url = base_url.rstrip("/")
        auth = ClientCredentials(f"{base_url}/oauth2/token", client_id, client_secret)
        self.http = http or httpx.Client(base_url=base_url, auth=auth, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _get(self, path: str) -> Json:
        body: Json = self._send("GET", path, expect=(200,)).json()
        return body

    def _list(self, path: str, filters: dict[str, str]) -> list[Json]:
        """Every page of a list (offset/limit paging, X-Total-Count)."""
        items: list[Json] = []
        while True:
            params = {**filters, "offset": str(len(items)), "limit": str(PAGE_SIZE)}
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

    def _send(self, method: str, path: str, expect: tuple[int, ...], **kwargs: Any) -> httpx.Response:
        response = self.http.request(method, path, **kwargs)
        if response.status_code not in expect:
            try:
                detail: Any = response.json()
            except ValueError:
                detail = response.text
            raise self.error(response.status_code, detail, f"{method} {path}")
        return response
