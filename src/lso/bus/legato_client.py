"""BUS's client of LEGATO (served by SOF): service ordering, service inventory and feasibility.

The request bodies are documented in docs/legato.md. Every call is safe to repeat: SOF deduplicates
service orders by ``externalId`` (the product order id), so a fulfilment step that crashed after POSTing
can POST again and gets the same order back.
"""

from __future__ import annotations

from typing import Any

from lso.mef.client import MefApiClient, MefApiError

ORDERING = "/mefApi/legato/serviceOrderingManagement/v6"
INVENTORY = "/mefApi/legato/serviceInventory/v7"
TESTING = "/mefApi/legato/serviceFunctionTesting/v3"
FEASIBILITY = "/mefApi/legato/serviceFeasibility/v1"

ORDERING_LISTENER = "/mefApi/legato/serviceOrderingNotification/v6/listener"
"""Where SOF POSTs service order events under the callback BUS registers: ``<callback><this>/<eventType>``."""


class LegatoError(MefApiError):
    """SOF refused a LEGATO request; ``body`` is the MEF error body it answered."""

    api = "LEGATO"


class LegatoClient(MefApiClient):
    """LEGATO as BUS sees it; ``http`` is authenticated as BUS (``EntityContext.client("sof")``)."""

    error = LegatoError

    def create_service_order(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create a service order (body per docs/legato.md) or, for a known ``externalId``, get it back."""
        return dict(self._json("POST", f"{ORDERING}/serviceOrder", json=body))

    def get_service_order(self, order_id: str) -> dict[str, Any]:
        return self._get(f"{ORDERING}/serviceOrder/{order_id}")

    def find_service_order(self, external_id: str) -> dict[str, Any] | None:
        """The service order created for ``external_id`` (a product order id), if any."""
        found = self._json("GET", f"{ORDERING}/serviceOrder", params={"externalId": external_id})
        return dict(found[0]) if found else None

    def register_hub(self, callback_base_url: str, query: str | None = None) -> dict[str, Any]:
        """Subscribe ``callback_base_url`` to service order events (all of them when ``query`` is None).

        Events arrive at ``callback_base_url + ORDERING_LISTENER + /<eventType>``.
        """
        body: dict[str, Any] = {"callback": callback_base_url}
        if query:
            body["query"] = query
        return dict(self._json("POST", f"{ORDERING}/hub", json=body))

    def check_feasibility(
        self, site_ids: list[str], cir_mbps: float, eir_mbps: float = 0.0
    ) -> dict[str, Any]:
        """Serviceability of a connection between ``site_ids`` at CIR+EIR within the provider footprint."""
        body = {
            "place": [{"@type": "GeographicSiteRef", "id": site} for site in site_ids],
            "bandwidth": {"irValue": cir_mbps + eir_mbps, "irUnits": "MBPS"},
        }
        return dict(self._json("POST", f"{FEASIBILITY}/feasibilityCheck", json=body))

    def get_service(self, service_id: str) -> dict[str, Any]:
        return self._get(f"{INVENTORY}/service/{service_id}")

    def get_test_job(self, test_job_id: str) -> dict[str, Any]:
        return self._get(f"{TESTING}/testJob/{test_job_id}")

    def find_services(self, external_id: str) -> list[dict[str, Any]]:
        """The services in SOF's inventory made for the service order of ``external_id``."""
        return self._list(f"{INVENTORY}/service", {"externalId": external_id})

    def list_test_results(self, test_job_id: str) -> list[dict[str, Any]]:
        return self._list(f"{TESTING}/testResult", {"testJobId": test_job_id})
