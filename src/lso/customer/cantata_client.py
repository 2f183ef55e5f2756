"""A customer's client of the CANTATA APIs (Kylie): catalog, sites, address validation, POQ, quote,
product order, product inventory and notification hubs.

Written from the official MEF documents (paths, operation names, bodies are plain MEF JSON) so it works
against any CANTATA seller, not only lso. Authentication, error mapping and paging come from
:mod:`lso.customer.sdk`; a MEF error answer raises :class:`CantataError` carrying the MEF error body.
"""

from __future__ import annotations

import time
from collections.abc import Collection

from lso.customer.sdk import Json, MefApiClient, MefApiError

__all__ = ["ORDER_END_STATES", "CantataClient", "CantataError", "Json"]

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


class CantataError(MefApiError):
    """A MEF error answer of a CANTATA API."""


class CantataClient(MefApiClient):
    """The CANTATA APIs of one seller, as one buyer (customer)."""

    error = CantataError

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
        self._act("DELETE", f"{HUBS[api]}/hub/{hub_id}")
