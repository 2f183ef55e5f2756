"""End to end from measurement intervals: an impairment makes the availability objective fail, judged by
SOF from the intervals it fetched (PRESTO → ICM → ADAGIO) and stored in the series store; a PM report
shows the MEF 10.4 values."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from lso.mef.dates import iso, utcnow
from lso.settings import Settings
from tests.harness import wait_until
from tests.sof.assurance.assurance import LEGATO_PM, duration
from tests.sof.assurance.sls_orders import active_evc, frame_delay_metric, sls_of, with_sls
from tests.sof.assurance.test_sls_remediation import ADMIN, degradation_in
from tests.sof.orders import epl_order
from tests.sof.test_activation import characteristic

PAIRS = [
    {"fromCarrierEthernetServiceEndPoint": "A", "toCarrierEthernetServiceEndPoint": "Z"},
    {"fromCarrierEthernetServiceEndPoint": "Z", "toCarrierEthernetServiceEndPoint": "A"},
]
SLS = sls_of(
    consecutive_intervals=2,
    oneWayFrameDelayPmMetric=[frame_delay_metric(PAIRS, 99.0, 50)],
    oneWayAvailabilityPmMetric=[{"orderedPairList": PAIRS, "oneWayAvailabilityObjective": 99.9}],
)


def stored_records(settings: Settings, service_id: str) -> tuple[int, int]:
    """Rows and interval records of the service in the series store (``measurement_block``)."""
    engine = create_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            rows, records = connection.execute(
                text("SELECT count(*), coalesce(sum(count), 0) FROM measurement_block WHERE service_id = :s"),
                {"s": service_id},
            ).one()
    finally:
        engine.dispose()
    return int(rows), int(records)


def on_demand_report(bus: httpx.Client, service_id: str, seconds: int) -> dict[str, Any]:
    now = utcnow()
    body = {
        "granularity": duration(seconds),
        "monitoredObject": [{"@type": "ServiceRef", "serviceId": service_id}],
        "outputFormat": "json",
        "resultFormat": "payload",
        "reportingTimeframe": {
            "reportingStartDate": iso(now - timedelta(seconds=seconds)),
            "reportingEndDate": iso(now),
        },
        "serviceSpecificConfiguration": {
            "@type": "urn:lso:performance:carrier-ethernet-frame-performance-configuration"
        },
    }
    created = bus.post(f"{LEGATO_PM}/performanceReport", json=body)
    assert created.status_code == 201, created.text
    report: dict[str, Any] = bus.get(f"{LEGATO_PM}/performanceReport/{created.json()['id']}").json()
    return report


def test_lost_frames_make_the_service_unavailable_from_stored_intervals(
    domain: Settings,
    bus: httpx.Client,
    internal: Any,
    terminated: Any,
) -> None:
    evc = terminated(active_evc(bus, with_sls(epl_order(), SLS)))
    wait_until(lambda: stored_records(domain, evc["id"])[1] >= 2, timeout=30)  # both directions measured
    assert (
        degradation_in(bus, evc["id"], "open", "testing", "remediating", "manualInterventionRequired") is None
    )

    edge = characteristic(evc, "path")[-1]  # the Z-end element: no reroute avoids it
    ecm: httpx.Client = internal("ecm")
    # every Δt loses more than C = 50 %: unavailable after n = 2 of them
    assert ecm.put(f"{ADMIN}/{edge}", json={"lossRatio": 0.9}).status_code == 200
    try:
        assert_unavailable(domain, bus, evc["id"])
    finally:
        ecm.delete(f"{ADMIN}/{edge}")  # repaired: the assessment sees the SLS met again
    wait_until(lambda: degradation_in(bus, evc["id"], "resolved"), timeout=60)


def assert_unavailable(domain: Settings, bus: httpx.Client, service_id: str) -> None:
    """The availability objective fails (and only it), a report shows the MEF 10.4 values, and the
    series store holds the intervals they come from."""
    manual = wait_until(lambda: degradation_in(bus, service_id, "manualInterventionRequired"), timeout=90)
    breach = {b["metric"]: b for b in manual["breach"]}
    assert set(breach) == {"oneWayAvailability"}, manual["breach"]  # the delay objective still holds
    assert breach["oneWayAvailability"]["measured"] < 99.9
    assert breach["oneWayAvailability"]["unit"] == "%"

    report = on_demand_report(bus, service_id, 5)
    assert report["state"] == "completed", report
    data = report["reportContent"][0]["reportContentItem"][0]["measurementData"]
    assert {(d["fromEndPoint"], d["toEndPoint"]) for d in data} == {
        (a, z) for a in {d["fromEndPoint"] for d in data} for z in {d["toEndPoint"] for d in data} if a != z
    }
    assert len(data) == 2
    for values in data:
        assert values["measurementIntervals"] >= 4
        assert values["availabilityPercent"] <= 40  # at most the first n − 1 Δt of a run are available
        assert values["highLossIntervals"] <= 2

    rows, records = stored_records(domain, service_id)
    assert rows >= 2 and records >= 2 * 8  # intervals of both directions, one part per fetch and day
