"""An active EPL ordered over LEGATO for a customer, and the bodies the assurance tests send."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from lso.mef.dates import iso, utcnow
from tests.harness import wait_until
from tests.sof.orders import INVENTORY, ORDERING, epl_order
from tests.sof.test_activation import settled

ALLEGRO_PM = "/mefApi/allegro/performanceMonitoring/v5"
LEGATO_PM = "/mefApi/legato/performanceMonitoring/v5"
INTERLUDE_PM = "/mefApi/interlude/performanceMonitoring/v5"
ALLEGRO_FM = "/mefApi/allegro/faultManagement/v3"
ALLEGRO_ALARMS = "/mefApi/allegro/alarmManagement/v3"
SSC = {"@type": "urn:lso:performance:carrier-ethernet-frame-performance-configuration"}


def customer_epl(bus: httpx.Client, customer: str) -> str:
    """The id of an active EVC service that BUS ordered for ``customer`` (as docs/legato.md says BUS
    names the customer: a ``relatedContactInformation`` of role customer)."""
    body = epl_order()
    body["relatedContactInformation"] = [
        {
            "role": "customer",
            "organization": customer,
            "name": "Network operations",
            "emailAddress": "noc@example.com",
            "number": "+44 20 7946 0000",
        }
    ]
    order = settled(bus, bus.post(f"{ORDERING}/serviceOrder", json=body).json()["id"])
    assert order["state"] == "completed", order
    services = bus.get(f"{INVENTORY}/service", params={"externalId": body["externalId"]}).json()
    evc = next(s for s in services if s["serviceType"] == "EVC")
    return str(evc["id"])


def duration(value: int, units: str = "SEC") -> dict[str, Any]:
    return {"timeDurationValue": value, "timeDurationUnits": units}


def profile_value(job_type: str, granularity_s: int = 1, period_s: int = 1) -> dict[str, Any]:
    return {
        "@type": "PerformanceProfileValue",
        "granularity": duration(granularity_s),
        "jobType": job_type,
        "outputFormat": "json",
        "reportingPeriod": duration(period_s),
        "resultFormat": "payload",
        "serviceSpecificConfiguration": SSC,
    }


def job_body(service_id: str, profile: dict[str, Any]) -> dict[str, Any]:
    return {
        "monitoredObject": {"@type": "ServiceRef", "serviceId": service_id},
        "performanceProfile": profile,
        "scheduleDefinition": {},
        "description": "frame delay and loss of my EPL",
    }


def measured_epl(bus: httpx.Client, customer: httpx.Client) -> str:
    """acme's EPL once its first measurement interval has ended (a report needs one)."""
    service_id = customer_epl(bus, "acme")
    wait_until(lambda: _measured_since(customer, service_id, utcnow() - timedelta(seconds=10)), timeout=30)
    return service_id


def _measured_since(client: httpx.Client, service_id: str, start: Any) -> bool:
    body = {
        "granularity": duration(10),
        "monitoredObject": [{"@type": "ServiceRef", "serviceId": service_id}],
        "outputFormat": "json",
        "resultFormat": "payload",
        "reportingTimeframe": {"reportingStartDate": iso(start), "reportingEndDate": iso(utcnow())},
        "serviceSpecificConfiguration": {
            "@type": "urn:lso:performance:carrier-ethernet-frame-performance-configuration"
        },
    }
    created = client.post(f"{ALLEGRO_PM}/performanceReport", json=body)
    assert created.status_code == 201, created.text
    report = client.get(f"{ALLEGRO_PM}/performanceReport/{created.json()['id']}").json()
    return bool(report["state"] == "completed")
