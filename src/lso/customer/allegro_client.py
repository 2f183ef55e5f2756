"""A customer's client of the ALLEGRO assurance APIs (Kylie): service inventory (the services to monitor),
performance monitoring (profiles, jobs, reports), fault management (jobs, reports), alarms, and their
notification hubs.

Written from the official MEF documents, like :mod:`lso.customer.cantata_client`, so it works against
any ALLEGRO seller. Authentication, error mapping and paging come from :mod:`lso.customer.sdk`; a MEF
error answer raises :class:`AllegroError` carrying the MEF error body.
"""

from __future__ import annotations

import time

from lso.customer.sdk import Json, MefApiClient, MefApiError

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


class AllegroError(MefApiError):
    """A MEF error answer of an ALLEGRO API."""


def service_ref(service_id: str) -> Json:
    """A ``MonitoredObjectRef`` naming one service."""
    return {"@type": "ServiceRef", "serviceId": service_id}


class AllegroClient(MefApiClient):
    """The ALLEGRO assurance APIs of one seller, as one customer."""

    error = AllegroError

    # -- service inventory ---------------------------------------------------------------------
    def list_services(self, **filters: str) -> list[Json]:
        return self._list(f"{INVENTORY}/service", filters)

    def retrieve_service(self, service_id: str) -> Json:
        return self._get(f"{INVENTORY}/service/{service_id}")

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
        return self._post(f"{PERFORMANCE}/performanceProfile", profile)

    def create_performance_job(self, job: Json) -> Json:
        return self._post(f"{PERFORMANCE}/performanceJob", job)

    def retrieve_performance_job(self, job_id: str) -> Json:
        return self._get(f"{PERFORMANCE}/performanceJob/{job_id}")

    def list_performance_jobs(self, **filters: str) -> list[Json]:
        return self._list(f"{PERFORMANCE}/performanceJob", filters)

    def suspend_performance_job(self, job_id: str) -> None:
        self._act("POST", f"{PERFORMANCE}/performanceJob/{job_id}/suspend")

    def resume_performance_job(self, job_id: str) -> None:
        self._act("POST", f"{PERFORMANCE}/performanceJob/{job_id}/resume")

    def cancel_performance_job(self, job_id: str) -> Json:
        ref = {"@type": "PerformanceJobRef", "performanceJobId": job_id}
        return self._post(f"{PERFORMANCE}/cancelPerformanceJob", {"performanceJob": ref})

    def create_performance_report(self, report: Json) -> Json:
        return self._post(f"{PERFORMANCE}/performanceReport", report)

    def retrieve_performance_report(self, report_id: str) -> Json:
        return self._get(f"{PERFORMANCE}/performanceReport/{report_id}")

    def list_performance_reports(self, **filters: str) -> list[Json]:
        return self._list(f"{PERFORMANCE}/performanceReport", filters)

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
        return self._post(f"{FAULT}/faultManagementJob", job)

    def list_fault_management_reports(self, **filters: str) -> list[Json]:
        return self._list(f"{FAULT}/faultManagementReport", filters)

    def list_alarms(self, **filters: str) -> list[Json]:
        return self._list(f"{ALARM}/alarm", filters)

    def retrieve_alarm(self, alarm_id: str) -> Json:
        return self._get(f"{ALARM}/alarm/{alarm_id}")

    # -- notifications -------------------------------------------------------------------------
    def register_listener(self, api: str, callback: str, query: str | None = None) -> Json:
        """registerListener on ``api`` (a key of :data:`HUBS`)."""
        body: Json = {"callback": callback}
        if query:
            body["query"] = query
        return self._post(f"{HUBS[api]}/hub", body)

    def unregister_listener(self, api: str, hub_id: str) -> None:
        self._act("DELETE", f"{HUBS[api]}/hub/{hub_id}")
