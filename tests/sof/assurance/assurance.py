"""An active EPL ordered over LEGATO for a customer, and the bodies the assurance tests send."""

from __future__ import annotations

from typing import Any

import httpx

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
