"""A customer's client of the CANTATA APIs (Kylie): catalog, sites, address validation, POQ, quote,
product order, product inventory and notification hubs.

Written from the official MEF documents (paths, operation names, bodies are plain MEF JSON) so it works
against any CANTATA seller, not only lso. It authenticates with OAuth2 client credentials; a MEF error
answer raises :class:`CantataError` carrying the MEF error body.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from typing import Any

import httpx

from lso.security.client import ClientCredentials

Json = dict[str, Any]

PRODUCT_CATALOG = "/mefApi/cantata/productCatalog/v4"
GEOGRAPHIC_ADDRESS = "/mefApi/cantata/geographicAddressManagement/v2"
GEOGRAPHIC_SITE = "/mefApi/cantata/geographicSiteManagement/v8"
POQ = "/mefApi/cantata/productOfferingQualification/v8"
QUOTE = "/mefApi/cantata/quoteManagement/v4"
PRODUCT_ORDER = "/mefApi/cantata/productOrderingManagement/v6"
PRODUCT_INVENTORY = "/mefApi/cantata/productInventory/v2"

HUBS = {
    "productCatalog": PRODUCT_CATALOG,
    "geographicAddress": GEOGRAPHIC_ADDRESS,
    "productOfferingQualification": POQ,
    "quote": QUOTE,
    "productOrder": PRODUCT_ORDER,
}
"""The APIs that offer ``/hub`` (notification registration), by the name callers pass."""

ORDER_END_STATES = frozenset({"completed", "failed", "partial", "rejected", "cancelled"})


class CantataError(Exception):
    """A MEF error answer: ``status`` and the MEF error body (an object, or an array for 422)."""

    def __init__(self, status: int, body: Any, operation: str) -> None:
        self.status = status
        self.body = body
        super().__init__(f"{operation} answered {status}: {body}")


class CantataClient:
    """The CANTATA APIs of one seller, as one buyer (customer)."""

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

    def __enter__(self) -> CantataClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- product catalog (MEF 127) -------------------------------------------------------------
    def list_product_offerings(self, **filters: str) -> list[Json]:
        return self._list(f"{PRODUCT_CATALOG}/productOffering", filters)

    def retrieve_product_offering(self, offering_id: str) -> Json:
        return self._get(f"{PRODUCT_CATALOG}/productOffering/{offering_id}")

    def list_product_specifications(self, **filters: str) -> list[Json]:
        return self._list(f"{PRODUCT_CATALOG}/productSpecification", filters)

    def retrieve_product_specification(self, specification_id: str) -> Json:
        return self._get(f"{PRODUCT_CATALOG}/productSpecification/{specification_id}")

    # -- address and site (MEF 79) -------------------------------------------------------------
    def validate_address(self, submitted: Json, instant: bool = True) -> Json:
        """createGeographicAddressValidation of a ``GeographicAddress_Query``: answered at once (200)
        when ``instant``, else acknowledged (201) and completed later."""
        body = {"submittedGeographicAddress": submitted, "instantSyncValidation": instant}
        path = f"{GEOGRAPHIC_ADDRESS}/geographicAddressValidation"
        validation: Json = self._send("POST", path, expect=(200, 201), json=body).json()
        return validation

    def retrieve_geographic_address_validation(self, validation_id: str) -> Json:
        return self._get(f"{GEOGRAPHIC_ADDRESS}/geographicAddressValidation/{validation_id}")

    def retrieve_geographic_address(self, address_id: str) -> Json:
        return self._get(f"{GEOGRAPHIC_ADDRESS}/geographicAddress/{address_id}")

    def list_geographic_sites(self, **filters: str) -> list[Json]:
        return self._list(f"{GEOGRAPHIC_SITE}/geographicSite", filters)

    def retrieve_geographic_site(self, site_id: str) -> Json:
        return self._get(f"{GEOGRAPHIC_SITE}/geographicSite/{site_id}")

    # -- product offering qualification (MEF 87) ----------------------------------------------
    def create_poq(self, poq: Json) -> Json:
        return self._post(f"{POQ}/productOfferingQualification", poq)

    def retrieve_poq(self, poq_id: str) -> Json:
        return self._get(f"{POQ}/productOfferingQualification/{poq_id}")

    def list_poqs(self, **filters: str) -> list[Json]:
        return self._list(f"{POQ}/productOfferingQualification", filters)

    # -- quote (MEF 80) ------------------------------------------------------------------------
    def create_quote(self, quote: Json) -> Json:
        return self._post(f"{QUOTE}/quote", quote)

    def retrieve_quote(self, quote_id: str) -> Json:
        return self._get(f"{QUOTE}/quote/{quote_id}")

    def list_quotes(self, **filters: str) -> list[Json]:
        return self._list(f"{QUOTE}/quote", filters)

    # -- product order (MEF 57.2) --------------------------------------------------------------
    def create_product_order(self, order: Json) -> Json:
        return self._post(f"{PRODUCT_ORDER}/productOrder", order)

    def retrieve_product_order(self, order_id: str) -> Json:
        return self._get(f"{PRODUCT_ORDER}/productOrder/{order_id}")

    def list_product_orders(self, **filters: str) -> list[Json]:
        return self._list(f"{PRODUCT_ORDER}/productOrder", filters)

    def wait_for_product_order(
        self,
        order_id: str,
        states: Collection[str] = ORDER_END_STATES,
        timeout: float = 300,
        interval: float = 0.5,
    ) -> Json:
        """Poll until the order reaches one of ``states`` (for scripts without a notification
        listener); raises TimeoutError with the last state seen."""
        deadline = time.monotonic() + timeout
        while True:
            order = self.retrieve_product_order(order_id)
            if order.get("state") in states:
                return order
            if time.monotonic() > deadline:
                raise TimeoutError(f"productOrder {order_id} still {order.get('state')} after {timeout}s")
            time.sleep(interval)

    # -- product inventory (MEF 81) ------------------------------------------------------------
    def list_products(self, **filters: str) -> list[Json]:
        return self._list(f"{PRODUCT_INVENTORY}/product", filters)

    def retrieve_product(self, product_id: str) -> Json:
        return self._get(f"{PRODUCT_INVENTORY}/product/{product_id}")

    # -- notifications -------------------------------------------------------------------------
    def register_listener(self, api: str, callback: str, query: str | None = None) -> Json:
        """registerListener on ``api`` (a key of :data:`HUBS`): events are POSTed to ``callback`` +
        ``/mefApi/cantata/<notificationApi>/v<n>/listener/<eventType>``."""
        body: Json = {"callback": callback}
        if query:
            body["query"] = query
        return self._post(f"{HUBS[api]}/hub", body)

    def unregister_listener(self, api: str, hub_id: str) -> None:
        self._send("DELETE", f"{HUBS[api]}/hub/{hub_id}", expect=(204,))

    # -- transport -----------------------------------------------------------------------------
    def _get(self, path: str) -> Json:
        body: Json = self._send("GET", path, expect=(200,)).json()
        return body

    def _list(self, path: str, filters: dict[str, str]) -> list[Json]:
        """Every page of a list (offset/limit paging, X-Total-Count)."""
        items: list[Json] = []
        while True:
            params = {**filters, "offset": str(len(items)), "limit": "100"}
            response = self._send("GET", path, expect=(200,), params=params)
            page: list[Json] = response.json()
            items.extend(page)
            total = int(response.headers.get("X-Total-Count", len(items)))
            if not page or len(items) >= total:
                return items

    def _post(self, path: str, body: Json) -> Json:
        created: Json = self._send("POST", path, expect=(201,), json=body).json()
        return created

    def _send(self, method: str, path: str, expect: tuple[int, ...], **kwargs: Any) -> httpx.Response:
        response = self.http.request(method, path, **kwargs)
        if response.status_code not in expect:
            try:
                detail: Any = response.json()
            except ValueError:
                detail = response.text
            raise CantataError(response.status_code, detail, f"{method} {path}")
        return response
