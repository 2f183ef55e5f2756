"""BUS's SONATA buyer client: what a provider asks of a partner (MEF 55.0.1 §10.1, §10.2 steps 3d-3e, 6).

Every path and body follows the Kylie SONATA documents, so any seller that implements them can stand in
for an lso partner domain. ``buyerId``/``sellerId`` are sent only when set: MEF 123 §5.3 needs them when
one set of credentials acts for several buyers or sellers, which a partner registration does not.
"""

from __future__ import annotations

from typing import Any

import httpx

from lso.mef.client import MefApiClient, MefApiError, authenticated
from lso.mef.store import Document

CATALOG = "/mefApi/sonata/productCatalog/v4"
SITES = "/mefApi/sonata/geographicSiteManagement/v8"
POQ = "/mefApi/sonata/productOfferingQualification/v8"
QUOTE = "/mefApi/sonata/quoteManagement/v10"
ORDERING = "/mefApi/sonata/productOrderingManagement/v11"
INVENTORY = "/mefApi/sonata/productInventory/v8"


class SonataError(MefApiError):
    """The partner answered with an error (or not at all: ``status`` 0)."""

    api = "SONATA seller"


class SonataClient(MefApiClient):
    """One partner's SONATA seller APIs, authenticated with the credentials the partner issued to us."""

    error = SonataError

    def __init__(self, http: httpx.Client, buyer_id: str | None = None, seller_id: str | None = None) -> None:
        super().__init__(http)
        self._party = {k: v for k, v in (("buyerId", buyer_id), ("sellerId", seller_id)) if v}

    @classmethod
    def connect(
        cls, base_url: str, client_id: str, client_secret: str, token_url: str | None = None
    ) -> SonataClient:
        """A client of the seller at ``base_url`` that buys OAuth2 client-credentials tokens from it."""
        return cls(authenticated(base_url, client_id, client_secret, token_url=token_url))

    # -- productCatalog (§10.1: what the partner sells, on what terms) --

    def product_offerings(self) -> list[Document]:
        """Every offering in full (the list answers the ``_Find`` summary only)."""
        return [
            self._get(f"{CATALOG}/productOffering/{o['id']}")
            for o in self._list(f"{CATALOG}/productOffering")
        ]

    def product_specifications(self) -> list[Document]:
        summaries = self._list(f"{CATALOG}/productSpecification")
        return [self._get(f"{CATALOG}/productSpecification/{s['id']}") for s in summaries]

    def product_offering(self, offering_id: str) -> Document:
        return self._get(f"{CATALOG}/productOffering/{offering_id}")

    def product_specification(self, specification_id: str) -> Document:
        return self._get(f"{CATALOG}/productSpecification/{specification_id}")

    # -- geographicSite (the partner's footprint) --

    def sites_at(self, place: Document) -> list[Document]:
        """The partner's sites at ``place`` (a GeographicAddressRef or GeographicAddress_Query)."""
        response = self._send("POST", f"{SITES}/geographicSite", json={"place": place})
        return list(response.json())

    # -- hubs: the partner notifies us of catalog and order changes --

    def register_hub(self, api_prefix: str, callback: str, query: str | None = None) -> Document:
        body: Document = {"callback": callback}
        if query:
            body["query"] = query
        return dict(self._send("POST", f"{api_prefix}/hub", json=body).json())

    # -- POQ, quote, order (§10.2 steps 3d, 3e, 6) --

    def create_poq(self, body: Document) -> Document:
        return dict(self._send("POST", f"{POQ}/productOfferingQualification", json=body).json())

    def get_poq(self, poq_id: str) -> Document:
        return self._get(f"{POQ}/productOfferingQualification/{poq_id}")

    def create_quote(self, body: Document) -> Document:
        return dict(self._send("POST", f"{QUOTE}/quote", json=body).json())

    def get_quote(self, quote_id: str) -> Document:
        return self._get(f"{QUOTE}/quote/{quote_id}")

    def create_order(self, body: Document) -> Document:
        return dict(self._send("POST", f"{ORDERING}/productOrder", json=body).json())

    def get_order(self, order_id: str) -> Document:
        return self._get(f"{ORDERING}/productOrder/{order_id}")

    def order_by_external_id(self, external_id: str) -> Document | None:
        """Our earlier order with this ``externalId``: a retried step finds it instead of ordering twice."""
        found = self._send("GET", f"{ORDERING}/productOrder", params={"externalId": external_id, "limit": 1})
        summaries = found.json()
        return self.get_order(summaries[0]["id"]) if summaries else None

    # -- productInventory (what our orders put in service at the partner) --

    def products_of_order(self, order_id: str) -> dict[str, str]:
        """Per item of our order ``order_id``, the id of the partner product it created: the seller names
        no product on an ``add`` item (Kylie), its inventory filtered by ``productOrderId`` does."""
        found = {}
        for summary in self._list(f"{INVENTORY}/product", {"productOrderId": order_id}):
            product = self._get(f"{INVENTORY}/product/{summary['id']}")
            for ref in product.get("productOrderItem") or []:
                if ref.get("productOrderId") == order_id:
                    found[str(ref.get("productOrderItemId"))] = str(product["id"])
        return found

    # -- plumbing --

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Every request names our party (when set); a partner out of reach is a :class:`SonataError`."""
        params = {**kwargs.pop("params", {}), **self._party}
        try:
            return super()._send(method, path, params=params, **kwargs)
        except httpx.HTTPStatusError as exc:  # the token endpoint refused our credentials
            raise SonataError(exc.response.status_code, "the partner refused our client credentials") from exc
        except httpx.HTTPError as exc:
            raise SonataError(0, str(exc)) from exc
