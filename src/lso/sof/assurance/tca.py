"""The threshold crossing alert of an SLS degradation, as the customer sees it on ALLEGRO (§10.6 step 7,
the ALTERNATIVE: SOF's own updates over ALLEGRO).

When a degradation opens, SOF records a TCA-triggered performance report for the service — the same kind
of report a customer's on-demand request makes (``reports.record_report``), holding the measurement that
crossed the SLS thresholds — and announces it on the ALLEGRO performance notification hub of the customer
BUS named in the service order. Services ordered for nobody (no customer known) get no report.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime

from lso.mef import runtime
from lso.mef.dates import iso
from lso.mef.store import Document
from lso.sof import activation, records
from lso.sof.assurance import measurements, reports
from lso.sof.assurance.access import ALLEGRO, customer_of
from lso.sof.assurance.jobs import PERFORMANCE
from lso.sof.presto_client import PrestoError

log = logging.getLogger(__name__)

_NAMESPACE = uuid.UUID("a4f1c9e2-3b7d-4c0e-8f5a-6d2b1e9c7a30")
CONFIGURATION_TYPE = "urn:lso:performance:carrier-ethernet-frame-performance-configuration"


def report_id(degradation_id: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"tca:{degradation_id}"))


@activation.remote_step("sof.report_tca")
def report_threshold_crossing(degradation_id: str, service_id: str, detail: str) -> list[str]:
    """Record (once: the report id is the degradation's) the TCA report; returns deliveries to dispatch."""
    rt = runtime.current()
    with rt.db.read() as session:
        service = records.SERVICES.get(session, service_id)
        customer = customer_of(session, service)
        known = PERFORMANCE.reports.find(session, report_id(degradation_id)) is not None
    if customer is None or known:
        return []
    period = max(1, round(rt.settings.sls_period_s))
    end = time.time()
    try:
        sample = measurements.sample(service_id, measurements.Interval(end - period, end))
    except PrestoError as exc:
        if exc.status >= 500:
            raise
        log.warning("no TCA report for %s: %s", service_id, exc)  # the degradation goes on regardless
        return []
    granularity = {"timeDurationValue": period, "timeDurationUnits": "SEC"}
    monitored: Document = {"@type": "ServiceRef", "serviceId": service_id}
    request: Document = {
        "description": f"Threshold crossing alert: the SLS is not met ({detail})",
        "granularity": granularity,
        "monitoredObject": [monitored],
        "outputFormat": "json",
        "resultFormat": "payload",
        "reportingTimeframe": {
            "reportingStartDate": sample["measurementStartDate"],
            "reportingEndDate": iso_of(end),
        },
        "serviceSpecificConfiguration": {"@type": CONFIGURATION_TYPE},
    }
    report = reports.new_report(PERFORMANCE, ALLEGRO.name, report_id(degradation_id), request)
    content = reports.content_of(monitored, [sample], granularity)
    with rt.db.session() as session:
        return reports.record_report(PERFORMANCE, session, report, customer, content or None, detail)


def iso_of(epoch: float) -> str:
    return iso(datetime.fromtimestamp(epoch, UTC))
