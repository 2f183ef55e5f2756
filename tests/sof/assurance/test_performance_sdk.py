"""The customer SDK's ALLEGRO client: a customer monitors its EPL and reads the report in a few calls."""

from __future__ import annotations

import httpx
import pytest

from lso.customer.allegro_client import AllegroClient, AllegroError, service_ref
from lso.domain import DEMO_CUSTOMERS
from lso.settings import Settings
from tests.sof.assurance.assurance import measured_epl, profile_value


def test_a_customer_monitors_its_epl_with_the_sdk(
    domain: Settings, bus: httpx.Client, acme: httpx.Client
) -> None:
    epl = measured_epl(bus, acme)
    with AllegroClient(domain.base_url, "acme", DEMO_CUSTOMERS["acme"]) as allegro:
        job = allegro.create_performance_job(
            {
                "monitoredObject": service_ref(epl),
                "performanceProfile": profile_value("on-demand"),
                "scheduleDefinition": {},
            }
        )
        report = allegro.wait_for_performance_report(job["id"], timeout=60)

        assert report["state"] == "completed"
        data = report["reportContent"][0]["reportContentItem"][0]["measurementData"]
        assert all(d["oneWayMeanFrameDelayMs"] > 0 for d in data)
        with pytest.raises(AllegroError) as refused:
            allegro.create_performance_job({"monitoredObject": service_ref(epl)})
        assert refused.value.status == 422
