"""A customer's client of the ALLEGRO assurance APIs (Kylie): service inventory (the services to monitor),
performance monitoring (profiles, jobs, reports), fault management (jobs, reports), alarms, and their
notification hubs.

Written from the official MEF documents, like :mod:`lso.customer.cantata_client`, so it works against
any ALLEGRO seller. A MEF error answer raises :class:`AllegroError` carrying the MEF error body.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from lso.security.client import ClientCredentials

Json = dict[str, Any]

INVENTORY = "/mefApi/allegro/serviceInventory/v2"
PERFORMANCE = "/mefApi/allegro/performanceMonitoring/v5"
FAULT = "/mefApi/allegro/faultManagement/v3"
ALARM = "/mefApi/allegro/alarmManagement/v3"
HUBS = {
    "serviceInventory": INVENTORY,
    "performanceMonitoring": PERFORMANCE,
    "faultManagement": FAULT,
    "alarmManagement": ALARM,
}
"""The APIs that offer ``/hub``, by the name callers pass."""

REPORT_END_STATES = frozenset({"completed", "failed", "rejected"})


class AllegroError(Exception):
    """A MEF error answer: ``status`` and the MEF error body (an object, or an array for 422)."""

    def __init__(self, status: int, body: Any, operation: str) -> None:
        self.status = status
        self.body = body
        super().__init__(f"{operation} answered {status}: {body}")


def service_ref(service_id: str) -> Json:
    """A ``MonitoredObjectRef`` naming one service."""
    return {"@type": "ServiceRef", "serviceId": service_id}


class AllegroClient:
    """The ALLEGRO assurance APIs of one seller, as one customer."""

    def __init__(
        self, base_url: str, client_id: str, client_secret: str, *, http: httpx.Client | None = None
    ) -> None:
        base_url = base_url.rstrip("/")
        auth = ClientCredentials(f"{base_url}/oauth2/token", client_id, client_secret)
        self.http = http or httpx.Client(base_url=base_url, auth=auth, timeout=30)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> AllegroClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- service inventory ---------------------------------------------------------------------
    def list_services(self, **filters: str) -> list[Json]:
        return self._send("GET", f"{INVENTORY}/service", (200,), params=filters)

    def retrieve_service(self, service_id: str) -> Json:
        return self._send("GET", f"{INVENTORY}/service/{service_id}", (200,))

    def services_of_product(self, product: Json) -> list[Json]:
        """The services that realise a CANTATA ``product`` (from its product inventory).

        Kylie's product has no reference to its services, so this follows lso's convention: a service
        carries the product order's id as ``externalId`` and the product order item's id as its
        ``serviceOrderItem.itemId``."""
        found = []
        for ref in product.get("productOrderItem", []):
            for service in self.list_services(externalId=ref["productOrderId"]):
                items = {item.get("itemId") for item in service.get("serviceOrderItem", [])}
                if ref["productOrderItemId"] in items:
                    found.append(service)
        return found

    # -- performance monitoring (MEF 133.1) ----------------------------------------------------
    def create_performance_profile(self, profile: Json) -> Json:
        return self._send("POST", f"{PERFORMANCE}/performanceProfile", (201,), json=profile)

    def create_performance_job(self, job: Json) -> Json:
        return self._send("POST", f"{PERFORMANCE}/performanceJob", (201,), json=job)

    def retrieve_performance_job(self, job_id: str) -> Json:
        return self._send("GET", f"{PERFORMANCE}/performanceJob/{job_id}", (200,))

    def list_performance_jobs(self, **filters: str) -> list[Json]:
        return self._send("GET", f"{PERFORMANCE}/performanceJob", (200,), params=filters)

    def suspend_performance_job(self, job_id: str) -> None:
        self._send("POST", f"{PERFORMANCE}/performanceJob/{job_id}/suspend", (204,))

    def resume_performance_job(self, job_id: str) -> None:
        self._send("POST", f"{PERFORMANCE}/performanceJob/{job_id}/resume", (204,))

    def cancel_performance_job(self, job_id: str) -> Json:
        ref = {"@type": "PerformanceJobRef", "performanceJobId": job_id}
        return self._send("POST", f"{PERFORMANCE}/cancelPerformanceJob", (201,), json={"performanceJob": ref})

    def create_performance_report(self, report: Json) -> Json:
        return self._send("POST", f"{PERFORMANCE}/performanceReport", (201,), json=report)

    def retrieve_performance_report(self, report_id: str) -> Json:
        return self._send("GET", f"{PERFORMANCE}/performanceReport/{report_id}", (200,))

    def list_performance_reports(self, **filters: str) -> list[Json]:
        return self._send("GET", f"{PERFORMANCE}/performanceReport", (200,), params=filters)

    def wait_for_performance_report(self, job_id: str, timeout: float = 120, interval: float = 0.5) -> Json:
        """Poll until the job has a finished report (for scripts without a notification listener)."""
        deadline = time.monotonic() + timeout
        while True:
            done = [
                r
                for r in self.list_performance_reports(performanceJobId=job_id)
                if r.get("state") in REPORT_END_STATES
            ]
            if done:
                return done[0]
            if time.monotonic() > deadline:
                raise TimeoutError(f"performanceJob {job_id} has no report after {timeout}s")
            time.sleep(interval)

    # -- fault management and alarms -----------------------------------------------------------
    def create_fault_management_job(self, job: Json) -> Json:
        return self._send("POST", f"{FAULT}/faultManagementJob", (201,), json=job)

    def list_fault_management_reports(self, **filters: str) -> list[Json]:
        return self._send("GET", f"{FAULT}/faultManagementReport", (200,), params=filters)

    def list_alarms(self, **filters: str) -> list[Json]:
        return self._send("GET", f"{ALARM}/alarm", (200,), params=filters)

    def retrieve_alarm(self, alarm_id: str) -> Json:
        return self._send("GET", f"{ALARM}/alarm/{alarm_id}", (200,))

    # -- notifications -------------------------------------------------------------------------
    def register_listener(self, api: str, callback: str, query: str | None = None) -> Json:
        """registerListener on ``api`` (a key of :data:`HUBS`)."""
        body: Json = {"callback": callback}
        if query:
            body["query"] = query
        return self._send("POST", f"{HUBS[api]}/hub", (201,), json=body)

    def unregister_listener(self, api: str, hub_id: str) -> None:
        self._send("DELETE", f"{HUBS[api]}/hub/{hub_id}", (204,))

    # -- transport -----------------------------------------------------------------------------
    def _send(self, method: str, path: str, expect: tuple[int, ...], **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        if response.status_code not in expect:
            try:
                detail: Any = response.json()
            except ValueError:
                detail = response.text
            raise AllegroError(response.status_code, detail, f"{method} {path}")
        return response.json() if response.content else None
