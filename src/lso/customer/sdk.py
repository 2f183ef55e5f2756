"""What every customer SDK client of a MEF LSO seller shares: the MEF API client base of
:mod:`lso.mef.client` (OAuth2 client credentials, MEF error answers as an exception, paging), opened from
the seller's base URL and the credentials it issued to the customer.

:class:`lso.customer.cantata_client.CantataClient` and :class:`lso.customer.allegro_client.AllegroClient`
add only their APIs' paths and operations on top, so both behave the same against any seller.
"""

from __future__ import annotations

import httpx

from lso.mef import client
from lso.mef.client import PAGE_SIZE, Json, MefApiError

__all__ = ["PAGE_SIZE", "Json", "MefApiClient", "MefApiError"]


class MefApiClient(client.MefApiClient):
    """The HTTP transport of one customer to one seller; subclasses name the error type they raise."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        timeout: float = 30,
        http: httpx.Client | None = None,
    ) -> None:
        super().__init__(http or client.authenticated(base_url, client_id, client_secret, timeout=timeout))
