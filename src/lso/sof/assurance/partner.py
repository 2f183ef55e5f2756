"""The partner's share in the assurance of an off-net EPL (MEF 55.0.1 §10.4 step 4.2, §10.6 steps 1.2
and 3): its performance over INTERLUDE, the end-to-end SLS judged on the concatenation of both segments,
and a degradation the partner's share causes handed to the partner.

- **Measuring the share.** For an EVC whose partner share was ordered over INTERLUDE
  (``partnerServiceOrder``), SOF keeps one proactive performance job on the partner's INTERLUDE
  performanceMonitoring (Kylie v5) that monitors the partner's OVC, reporting every assessment period.
  Its ``buyerJobId`` is ``sls:<our service id>``: a re-run looks the job up by it before creating one,
  so a retry never creates two. Every assessment run reads the partner's reports of the detection window.
- **Concatenation.** The customer's SLS is judged between the customer's UNIs, across both segments
  (docs/sls.md): our segment's MEF 10.4 values over the detection window are composed with the
  partner's values of the same direction (:func:`compose`).
- **Attribution.** A breach our segment alone shows is ours (the composition only ever worsens a
  value, so no partner could mend it) and is remediated as before. A breach only the concatenation
  shows is the partner's: the partner is asked to test its share (INTERLUDE serviceFunctionTesting
  createTestJob, named ``sls:<degradation id>``) and, when that fails, a trouble is recorded for the
  partner instead of rerouting our network (:func:`resolve_partner_degradation`).
- **Pushed reports.** Next to the job, SOF registers one listener per partner on the partner's INTERLUDE
  performanceNotification hub (:func:`listen`), for ``performanceJobReportReadyEvent``: a report of the
  share's job triggers the assessment at once (:mod:`partner_listener`) instead of at the next period.
  The callback carries a secret only that partner learns, so nobody else can knock; the event is only a
  hint: the assessment reads the partner's reports itself. The listener goes when the partner's last
  job is cancelled.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from dbos import DBOS
from dbos._error import DBOSMaxStepRetriesExceeded  # not exported by dbos itself

from lso.mef import runtime
from lso.mef.dates import iso, now_iso, parse
from lso.mef.notifications import NotificationApi, dispatch
from lso.mef.store import Document, Store
from lso.sof import end_to_end, interlude_client, records
from lso.sof.activation import fact
from lso.sof.assurance import degradation, measurements
from lso.sof.interlude_client import ACCESS, InterludeClient, InterludeError

log = logging.getLogger(__name__)

SHARES = Store("sof.partnerShareAssurance", "partnerShareAssurance")
"""Per off-net EVC (same id): the partner, its OVC and UNI services, our job on its INTERLUDE PM."""
PERFORMANCE = "/mefApi/interlude/performanceMonitoring/v5"
EVENTS = NotificationApi("interlude", "performanceNotification", "v5")
REPORT_READY = "performanceJobReportReadyEvent"
HUBS = Store("sof.partnerPerformanceHub", "partnerPerformanceHub")
"""Per partner: our listener on its INTERLUDE performance notifications (hub id, secret of the callback)."""
LISTENER_BASE = "/sof/partnerPerformance"
"""Our listener's callback is ``LISTENER_BASE/<partner id>/<secret>`` (:mod:`partner_listener`)."""
TEST_WAIT_S = 1.0
MAX_LAG_PERIODS = 5
"""How many assessment periods the partner's latest report may trail our detection window."""
MAX_TEST_WAITS = 600
_SSC = {"@type": "urn:lso:performance:carrier-ethernet-frame-performance-configuration"}
_INTERLUDE_STEP: dict[str, Any] = {
    "retries_allowed": True,
    "max_attempts": 5,
    "interval_seconds": 1.0,
    "backoff_rate": 2.0,
    "should_retry": interlude_client.retryable,
}


class PartnerPerformance(InterludeClient):
    """The partner's INTERLUDE performanceMonitoring, next to its ordering, inventory and testing."""

    def performance_jobs(self, buyer_job_id: str) -> list[Document]:
        found: list[Document] = self._call(
            "GET", f"{PERFORMANCE}/performanceJob", params={"buyerJobId": buyer_job_id}
        )
        return found

    def create_performance_job(self, body: Document) -> Document:
        created: Document = self._call("POST", f"{PERFORMANCE}/performanceJob", json=body)
        return created

    def performance_reports(self, job_id: str, since: float) -> list[Document]:
        params = {
            "performanceJobId": job_id,
            "state": "completed",
            "reportingTimeframe.startDate.gt": _iso(since),
            "limit": 1000,
        }
        found: list[Document] = self._call("GET", f"{PERFORMANCE}/performanceReport", params=params)
        return found

    def register_performance_hub(self, callback: str, query: str) -> Document:
        hub: Document = self._call("POST", f"{PERFORMANCE}/hub", json={"callback": callback, "query": query})
        return hub

    def unregister_performance_hub(self, hub_id: str) -> None:
        self._call("DELETE", f"{PERFORMANCE}/hub/{hub_id}")

    def cancel_performance_job(self, job_id: str) -> None:
        ref = {"@type": "PerformanceJobRef", "performanceJobId": job_id}
        self._call("POST", f"{PERFORMANCE}/cancelPerformanceJob", json={"performanceJob": ref})


def _client(partner_id: str) -> PartnerPerformance:
    with runtime.current().db.read() as session:
        return PartnerPerformance(ACCESS.get(session, partner_id))


def _iso(epoch: float) -> str:
    return iso(datetime.fromtimestamp(epoch, UTC))


def buyer_job_id(service_id: str) -> str:
    return f"sls:{service_id}"


def job_body(service_id: str, ovc_service_id: str, period_s: int) -> Document:
    """A proactive job on the partner's OVC that reports every assessment period (one granularity)."""
    every = {"timeDurationValue": max(1, period_s), "timeDurationUnits": "SEC"}
    return {
        "buyerJobId": buyer_job_id(service_id),
        "description": f"The partner's share of the SLS of EVC {service_id}",
        "monitoredObject": {"@type": "ServiceRef", "serviceId": ovc_service_id},
        "performanceProfile": {
            "@type": "PerformanceProfileValue",
            "granularity": every,
            "reportingPeriod": every,
            "jobType": "proactive",
            "outputFormat": "json",
            "resultFormat": "payload",
            "serviceSpecificConfiguration": _SSC,
        },
        "scheduleDefinition": {},
    }


def monitored(service: Document) -> Document | None:
    """The partner share's PM job of an off-net EVC, created on the partner the first time (None for an
    on-net EVC). Called inside the assessment step: every INTERLUDE call is safe to repeat."""
    ordered = fact(service, "partnerServiceOrder")
    if not isinstance(ordered, dict):
        return None
    with runtime.current().db.read() as session:
        known = SHARES.find(session, service["id"])
        link = interlude_client.LINKS.get(session, ordered["id"])
    if known is not None:
        listen(ordered["partnerId"])
        return known
    client = _client(ordered["partnerId"])
    try:
        services = {
            ref.get("itemId"): s
            for s in client.services_of(link["externalId"])
            for ref in s.get("serviceOrderItem", [])
            if ref.get("serviceOrderId") == ordered["id"]
        }
        ovc, uni = services.get(interlude_client.OVC_ITEM), services.get(interlude_client.UNI_ITEM)
        if ovc is None or uni is None:
            raise InterludeError(404, f"the partner shows no OVC and UNI of its order {ordered['id']}")
        period = round(runtime.current().settings.sls_period_s)
        job = next(iter(client.performance_jobs(buyer_job_id(service["id"]))), None)
        job = job or client.create_performance_job(job_body(service["id"], ovc["id"], period))
    finally:
        client.close()
    share: Document = {
        "id": service["id"],
        "partnerId": ordered["partnerId"],
        "ovcServiceId": ovc["id"],
        "uniServiceId": uni["id"],
        "enniEnd": f"{fact(ovc, 'enniElement')}/{fact(ovc, 'enniPort')}",
        "performanceJobId": job["id"],
    }
    with runtime.current().db.session() as session:
        if SHARES.find(session, service["id"]) is None:
            SHARES.add(session, share, party=records.SERVICES.party_of(session, service["id"]))
    listen(ordered["partnerId"])
    return share


def follow(service: Document) -> None:
    """Before our segment has intervals to judge: the partner share's job and our listener, so the
    partner reports and notifies from the first run (a partner that cannot answer is asked next run)."""
    try:
        monitored(service)
    except (InterludeError, httpx.HTTPError) as exc:
        log.warning("partner share of %s not monitored yet: %s", service["id"], exc)


def listen(partner_id: str) -> None:
    """Our listener on the partner's performance notifications, registered once per partner: its record
    (with the callback's secret) is kept before the hub is registered, so a re-run reuses the secret
    and registers only when no hub id was recorded. A partner that cannot answer is asked next run."""
    with runtime.current().db.read() as session:
        hub = HUBS.find(session, partner_id)
    if hub is not None and hub.get("state") == "registered":
        return
    if hub is None or hub.get("state") == "deleted":
        hub = {"id": partner_id, "state": "registering", "key": secrets.token_urlsafe(24)}
        with runtime.current().db.session() as session:
            if HUBS.find(session, partner_id) is None:
                HUBS.add(session, hub)
            else:
                HUBS.put(session, hub)
    callback = f"{runtime.current().settings.base_url}{LISTENER_BASE}/{partner_id}/{hub['key']}"
    client = _client(partner_id)
    try:
        registered = client.register_performance_hub(callback, f"eventType={REPORT_READY}")
    except (InterludeError, httpx.HTTPError) as exc:
        log.warning("no performance notifications from %s yet: %s", partner_id, exc)
        return
    finally:
        client.close()
    with runtime.current().db.session() as session:
        HUBS.put(session, {**hub, "state": "registered", "hubId": registered["id"]})


def unlisten(partner_id: str) -> None:
    """The partner's last job of ours ended: its notifications are no longer wanted."""
    with runtime.current().db.read() as session:
        hub = HUBS.find(session, partner_id)
        live = [s for s in SHARES.all(session) if s["partnerId"] == partner_id and not s.get("cancelled")]
    if hub is None or hub.get("state") == "deleted" or live:
        return
    if hub.get("hubId"):
        client = _client(partner_id)
        try:
            client.unregister_performance_hub(hub["hubId"])
        except InterludeError as exc:
            if exc.retryable:
                raise
            log.warning("the partner kept hub %s: %s", hub["hubId"], exc)  # e.g. already gone
        finally:
            client.close()
    with runtime.current().db.session() as session:
        HUBS.put(session, {**hub, "state": "deleted"})


@DBOS.step(name="sof.partner.stop_monitoring", **_INTERLUDE_STEP)
def stop_monitoring(service_id: str) -> None:
    """The EVC is no longer active: cancel the partner share's job (once; a repeat finds it ended) and,
    with the partner's last job, our listener."""
    with runtime.current().db.read() as session:
        share = SHARES.find(session, service_id)
    if share is None:
        return
    if not share.get("cancelled"):
        client = _client(share["partnerId"])
        try:
            client.cancel_performance_job(share["performanceJobId"])
        except InterludeError as exc:
            if exc.retryable:
                raise
            log.warning("the partner kept job %s: %s", share["performanceJobId"], exc)  # e.g. ended
        finally:
            client.close()
        with runtime.current().db.session() as session:
            SHARES.put(session, {**share, "cancelled": now_iso()})
    unlisten(share["partnerId"])


@dataclass(frozen=True)
class ShareValues:
    """The partner's MEF 10.4 values of one direction and CoS over a window, from its report items."""

    offered: int
    delivered: int
    mean_delay_ms: float | None
    min_delay_ms: float | None
    max_delay_ms: float | None
    max_ifdv_ms: float
    availability_percent: float | None
    high_loss_intervals: int

    @property
    def frame_loss_ratio(self) -> float | None:
        return 1 - self.delivered / self.offered if self.offered else None


def share_values(items: Iterable[Document]) -> ShareValues | None:
    """Several granularity intervals of one direction and CoS as one: frames add, the mean delay is
    weighted by frames delivered, extremes are the extremes, availability is weighted by intervals."""
    found = list(items)
    if not found:
        return None
    delivered = sum(int(i["framesDelivered"]) for i in found)
    timed = [i for i in found if i.get("oneWayMeanFrameDelayMs") is not None]
    weight = sum(int(i["framesDelivered"]) for i in timed)
    available = [i for i in found if i.get("availabilityPercent") is not None]
    intervals = sum(int(i["measurementIntervals"]) for i in available)
    return ShareValues(
        offered=sum(int(i["framesOffered"]) for i in found),
        delivered=delivered,
        mean_delay_ms=sum(i["oneWayMeanFrameDelayMs"] * int(i["framesDelivered"]) for i in timed) / weight
        if weight
        else None,
        min_delay_ms=min((i["oneWayMinimumFrameDelayMs"] for i in timed), default=None),
        max_delay_ms=max((i["oneWayMaximumFrameDelayMs"] for i in timed), default=None),
        max_ifdv_ms=max(float(i["oneWayMaximumInterFrameDelayVariationMs"]) for i in found),
        availability_percent=sum(i["availabilityPercent"] * int(i["measurementIntervals"]) for i in available)
        / intervals
        if intervals
        else None,
        high_loss_intervals=sum(int(i["highLossIntervals"]) for i in found),
    )


def combined(metric: str, ours: float, share: ShareValues) -> float | None:
    """A metric of the concatenation from our segment's value and the partner's (None when the partner's
    report cannot bound it). Delays add; loss and availability compose as docs/sls.md explains."""
    delay_range = (
        share.max_delay_ms - share.min_delay_ms
        if share.max_delay_ms is not None and share.min_delay_ms is not None
        else None
    )
    partner: float | None = {
        "oneWayFrameDelay": share.max_delay_ms,  # its maximum bounds any percentile of it
        "oneWayMeanFrameDelay": share.mean_delay_ms,
        "oneWayFrameDelayRange": delay_range,
        "oneWayInterFrameDelayVariation": share.max_ifdv_ms,
        "oneWayHighLossIntervals": float(share.high_loss_intervals),
    }.get(metric)
    if partner is not None:
        return ours + partner
    if metric == "oneWayFrameLossRatio" and share.frame_loss_ratio is not None:
        return 100 * (1 - (1 - ours / 100) * (1 - share.frame_loss_ratio))
    if metric == "oneWayAvailability" and share.availability_percent is not None:
        return max(0.0, ours + share.availability_percent - 100)
    return None  # CHLI: the partner's reports carry no run lengths


def compose(
    results: list[Document], shares: dict[tuple[str, bool], ShareValues], enni: str
) -> list[Document]:
    """The breaches of the concatenation: every ordered pair of our segment's ``results`` (the wire form
    of ``metrics.ObjectiveResult``) composed with the partner's values of the same direction —
    ``shares[(cos, True)]`` continues a pair that ends at our ENNI end ``enni`` (towards the partner),
    ``shares[(cos, False)]`` precedes a pair that starts there."""
    found: list[Document] = []
    for result in results:
        metric, objective = result["metric"], result["objective"]
        for pair in result["orderedPairs"]:
            share = shares.get((result["cosName"], pair["to"] == enni))
            if pair["value"] is None or share is None or enni not in (pair["from"], pair["to"]):
                continue
            value = combined(metric, pair["value"], share)
            if value is None:
                continue
            missed = value < objective if metric == "oneWayAvailability" else value > objective
            if missed:
                found.append(
                    {
                        "metric": metric,
                        "cosName": result["cosName"],
                        "aEnd": pair["from"],
                        "zEnd": pair["to"],
                        "measured": round(value, 6),
                        "objective": objective,
                        "unit": result["unit"],
                        "segment": degradation.PARTNER,
                        "ourSegment": round(pair["value"], 6),
                    }
                )
    return found


def sls_name(service: Document, end: str, start: int, stop: int) -> str:
    """The SLS's name of one of the service's ``element/port`` end points (``measurements.sls_view``)."""
    found = measurements.stored(service["id"], start, stop)
    renamed = {}
    for raw, named in zip(found, measurements.sls_view(service, found), strict=True):
        renamed[raw.key.source], renamed[raw.key.sink] = named.key.source, named.key.sink
    return renamed.get(end, end)


def latest_items(reports: list[Document], span: float, oldest: float, newest: float) -> list[Document]:
    """The result items of the partner's latest ``span`` seconds of reports that end by ``newest`` —
    none when even its latest ends before ``oldest``. A partner reports a period after measuring it, and
    later when busy, so its latest span stands for our detection window, up to a bounded lag."""
    timed = [
        (parse(item["measurementTime"]["measurementEndDate"]).timestamp(), item)
        for report in reports
        for content in report.get("reportContent") or []
        for item in content.get("reportContentItem") or []
    ]
    last = max((end for end, _ in timed if end <= newest), default=None)
    if last is None or last < oldest:
        return []
    return [
        data for end, item in timed if last - span < end <= last for data in item.get("measurementData") or []
    ]


def partner_breaches(service: Document, window: tuple[int, int], results: list[Document]) -> Document:
    """The partner's share over the detection window and the breaches of the concatenation: ``{"share":
    what was learned for the record, "breach": [...]}``. A partner that cannot answer leaves the
    end-to-end verdict to our segment (noted), never a breach."""
    start, stop = window
    period = max(1, round(runtime.current().settings.sls_period_s))
    oldest = stop - MAX_LAG_PERIODS * period
    try:
        share = monitored(service)
        if share is None:
            return {"breach": []}
        client = _client(share["partnerId"])
        try:
            reports = client.performance_reports(share["performanceJobId"], oldest - (stop - start))
        finally:
            client.close()
    except (InterludeError, httpx.HTTPError) as exc:
        log.warning("partner share of %s not assessed: %s", service["id"], exc)
        return {"breach": [], "share": {"verdict": "error", "error": str(exc)[:300]}}
    items = latest_items(reports, stop - start, oldest, stop + period)
    by_direction: dict[tuple[str, bool], list[Document]] = {}
    for data in items:
        outbound = data["fromEndPoint"] == share["enniEnd"]  # from the ENNI towards the partner's UNI
        by_direction.setdefault((data["cosName"], outbound), []).append(data)
    shares = {key: values for key, found in by_direction.items() if (values := share_values(found))}
    if not shares:
        return {"breach": [], "share": {"verdict": "waiting", "partnerId": share["partnerId"]}}
    enni = f"{fact(service, 'enniElement')}/{fact(service, 'enniPort')}"
    found = compose(results, shares, sls_name(service, enni, start, stop))
    for breach in found:
        breach["partnerId"] = share["partnerId"]
    summary = {
        "verdict": "breached" if found else "met",
        "partnerId": share["partnerId"],
        "performanceJobId": share["performanceJobId"],
        "reports": len(reports),
    }
    return {"breach": found, "share": summary}


@DBOS.workflow(name="sof.resolve_partner_degradation")
def resolve_partner_degradation(degradation_id: str) -> str:
    """§10.6 step 3 for a partner component: the partner tests its share; a failed test is the partner's
    trouble (our network is not rerouted); a passed one resolves the degradation as our own test does."""
    asked = "the partner's share misses the SLS: the partner is asked to test it over INTERLUDE"
    dispatch(degradation.move(degradation_id, degradation.TESTING, asked))
    try:
        partner_id, job_id = request_share_test(degradation_id)
        job = end_to_end.read_partner_test(partner_id, job_id)
        waits = 0
        while job.get("state") not in end_to_end.TEST_FINAL_STATES and waits < MAX_TEST_WAITS:
            DBOS.sleep(TEST_WAIT_S)
            job = end_to_end.read_partner_test(partner_id, job_id)
            waits += 1
    except (DBOSMaxStepRetriesExceeded, InterludeError) as exc:
        detail = f"the partner did not test its share ({exc}); a person must take over"
        dispatch(degradation.move(degradation_id, degradation.MANUAL, detail))
        return degradation.MANUAL
    if job["verdict"] == "pass":
        passed = f"the partner's share passes its test (job {job['id']}); the SLS is met again"
        dispatch(degradation.move(degradation_id, degradation.RESOLVED, passed))
        return degradation.RESOLVED
    raise_trouble(degradation_id, job)
    failed = f"the partner's share fails its test (job {job['id']}): trouble raised to partner; not rerouted"
    dispatch(degradation.move(degradation_id, degradation.MANUAL, failed))
    return degradation.MANUAL


@DBOS.step(name="sof.partner.request_share_test", **_INTERLUDE_STEP)
def request_share_test(degradation_id: str) -> tuple[str, str]:
    """The partner's test job of its OVC for this degradation (a re-run step finds it by name): the
    partner's id and the job's."""
    with runtime.current().db.read() as session:
        service_id = degradation.DEGRADATIONS.get(session, degradation_id)["serviceId"]
        share = SHARES.get(session, service_id)
    name = f"sls:{degradation_id}"
    client = _client(share["partnerId"])
    try:
        job = next(iter(client.test_jobs(name)), None) or client.create_test_job(
            end_to_end.end_to_end_job_body(name, share["uniServiceId"], share["ovcServiceId"])
        )
    finally:
        client.close()
    degradation.record(degradation_id, "partnerTestRequested", f"partner test job {job['id']}", {})
    return str(share["partnerId"]), str(job["id"])


@DBOS.step(name="sof.partner.raise_trouble")
def raise_trouble(degradation_id: str, job: Document) -> None:
    """The trouble of the partner's share, kept on the degradation (and so shown to BUS)."""
    with runtime.current().db.session() as session:
        found = degradation.DEGRADATIONS.get(session, degradation_id)
        share = SHARES.get(session, found["serviceId"])
        found["partnerTrouble"] = {
            "partnerId": share["partnerId"],
            "partnerServiceId": share["ovcServiceId"],
            "testJobId": job["id"],
            "reason": job.get("reason") or "its test failed",
            "raisedDate": now_iso(),
            "breach": found["breach"],
        }
        degradation.DEGRADATIONS.put(session, found)
