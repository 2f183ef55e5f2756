"""Performance monitoring over ALLEGRO, LEGATO and INTERLUDE (MEF 55.0.1 §10.4 steps 1–6)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from lso.domain import DEMO_BUYERS
from lso.mef.dates import iso, utcnow
from lso.settings import Settings
from tests.harness import EventListener, party_client, running_listener, wait_until
from tests.sof.assurance.assurance import (
    ALLEGRO_PM,
    INTERLUDE_PM,
    LEGATO_PM,
    duration,
    job_body,
    measured_epl,
    profile_value,
)


@pytest.fixture(scope="module")
def listener() -> Iterator[EventListener]:
    with running_listener() as running:
        yield running


@pytest.fixture
def epl(bus: httpx.Client, acme: httpx.Client) -> str:
    """An EPL of acme whose first measurement interval has ended (reports need one)."""
    return measured_epl(bus, acme)


def _job(client: httpx.Client, job_id: str, base: str = ALLEGRO_PM) -> dict[str, Any]:
    answer: dict[str, Any] = client.get(f"{base}/performanceJob/{job_id}").json()
    return answer


def _reports(client: httpx.Client, job_id: str) -> list[dict[str, Any]]:
    found = client.get(f"{ALLEGRO_PM}/performanceReport", params={"performanceJobId": job_id})
    assert found.status_code == 200
    reports: list[dict[str, Any]] = found.json()
    return reports


def test_on_demand_job_reports_measured_values_and_notifies(
    acme: httpx.Client, globex: httpx.Client, epl: str, listener: EventListener
) -> None:
    hub = acme.post(f"{ALLEGRO_PM}/hub", json={"callback": listener.url})
    assert hub.status_code == 201

    created = acme.post(f"{ALLEGRO_PM}/performanceJob", json=job_body(epl, profile_value("on-demand")))

    assert created.status_code == 201, created.text
    job = created.json()
    assert job["state"] == "acknowledged"
    ready = wait_until(lambda: listener.about("performanceJobReportReadyEvent", job["id"]))
    report = acme.get(f"{ALLEGRO_PM}/performanceReport/{ready[0]['event']['reportId']}").json()
    assert report["state"] == "completed"
    assert report["performanceJob"]["performanceJobId"] == job["id"]
    items = report["reportContent"][0]["reportContentItem"]
    data = items[0]["measurementData"]
    assert len(data) == 2, "one result per direction of the EPL"
    assert all(d["oneWayMeanFrameDelayMs"] > 0 and 0 <= d["frameLossRatio"] <= 1 for d in data)
    assert wait_until(lambda: _job(acme, job["id"])["state"] == "completed")
    by_service = acme.get(f"{ALLEGRO_PM}/performanceReport", params={"serviceId": epl}).json()
    # the job's report, besides the on-demand ones the fixture asked while waiting for a first interval
    assert report["id"] in [r["id"] for r in by_service]
    # every report names its job: the on-demand ones their own completed on-demand job
    assert [r["id"] for r in by_service if r["performanceJob"]["performanceJobId"] == job["id"]] == [
        report["id"]
    ]
    on_demand = [r["performanceJob"]["performanceJobId"] for r in by_service if r["id"] != report["id"]]
    assert all(_job(acme, job_id)["state"] == "completed" for job_id in on_demand)
    query = {"monitoredObject": {"@type": "ServiceRef", "serviceId": epl}, "state": "completed"}
    queried = acme.post(f"{ALLEGRO_PM}/performanceJobComplexQuery", json=query)
    assert queried.status_code == 200 and {j["id"] for j in queried.json()} == {job["id"], *on_demand}
    assert globex.post(f"{ALLEGRO_PM}/performanceJobComplexQuery", json=query).json() == []
    assert globex.get(f"{ALLEGRO_PM}/performanceJob/{job['id']}").status_code == 404
    assert globex.get(f"{ALLEGRO_PM}/performanceReport/{report['id']}").status_code == 404


def test_proactive_job_reports_every_period_until_cancelled(acme: httpx.Client, epl: str) -> None:
    job = acme.post(f"{ALLEGRO_PM}/performanceJob", json=job_body(epl, profile_value("proactive"))).json()

    assert wait_until(lambda: len(_reports(acme, job["id"])) >= 2, timeout=30)
    cancel = acme.post(
        f"{ALLEGRO_PM}/cancelPerformanceJob",
        json={"performanceJob": {"@type": "PerformanceJobRef", "performanceJobId": job["id"]}},
    )
    assert cancel.status_code == 201, cancel.text
    assert cancel.json()["state"] == "acknowledged"
    assert acme.get(f"{ALLEGRO_PM}/cancelPerformanceJob/{cancel.json()['id']}").json()["state"] == "completed"
    assert _job(acme, job["id"])["state"] == "cancelled"
    periods = {r["reportingTimeframe"]["reportingStartDate"] for r in _reports(acme, job["id"])}
    assert len(periods) == len(_reports(acme, job["id"])), "no period is reported twice"


def test_suspend_and_resume_follow_the_job_state_machine(acme: httpx.Client, epl: str) -> None:
    profile = profile_value("proactive", granularity_s=60, period_s=3600)
    job = acme.post(f"{ALLEGRO_PM}/performanceJob", json=job_body(epl, profile)).json()
    assert wait_until(lambda: _job(acme, job["id"])["state"] == "inProgress")

    assert acme.post(f"{ALLEGRO_PM}/performanceJob/{job['id']}/resume").status_code == 422
    assert acme.post(f"{ALLEGRO_PM}/performanceJob/{job['id']}/suspend").status_code == 204
    assert _job(acme, job["id"])["state"] == "suspended"
    assert acme.post(f"{ALLEGRO_PM}/performanceJob/{job['id']}/resume").status_code == 204
    assert _job(acme, job["id"])["state"] == "inProgress"
    modify = acme.post(
        f"{ALLEGRO_PM}/modifyPerformanceJob",
        json={
            "performanceJob": {"@type": "PerformanceJobRef", "performanceJobId": job["id"]},
            "description": "changed",
            "performanceProfile": {"granularity": duration(30)},
        },
    )
    assert modify.status_code == 201, modify.text
    bad = acme.post(
        f"{ALLEGRO_PM}/modifyPerformanceJob",
        json={
            "performanceJob": {"@type": "PerformanceJobRef", "performanceJobId": job["id"]},
            "performanceProfile": {"outputFormat": "xml"},
        },
    )
    assert bad.status_code == 422 and bad.json()[0]["propertyPath"] == "/performanceProfile/outputFormat"
    changed = _job(acme, job["id"])
    assert changed["state"] == "inProgress" and changed["description"] == "changed"
    assert changed["performanceProfile"]["granularity"] == duration(30)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda b: b.pop("monitoredObject"), "/monitoredObject"),
        (lambda b: b["monitoredObject"].update(serviceId="no-such-service"), "/monitoredObject/serviceId"),
        (lambda b: b["performanceProfile"].update(jobType="passive"), "/jobType"),
        (lambda b: b["performanceProfile"].update(granularity=duration(0)), "/granularity/timeDurationValue"),
    ],
)
def test_bad_jobs_are_refused_and_nothing_is_stored(
    acme: httpx.Client, epl: str, change: Any, path: str
) -> None:
    before = acme.get(f"{ALLEGRO_PM}/performanceJob").headers["X-Total-Count"]
    body = job_body(epl, profile_value("on-demand"))
    change(body)

    answer = acme.post(f"{ALLEGRO_PM}/performanceJob", json=body)

    assert answer.status_code == 422
    assert any(issue["propertyPath"].endswith(path) for issue in answer.json()), answer.json()
    assert acme.get(f"{ALLEGRO_PM}/performanceJob").headers["X-Total-Count"] == before


def test_another_customers_service_cannot_be_monitored(globex: httpx.Client, epl: str) -> None:
    answer = globex.post(f"{ALLEGRO_PM}/performanceJob", json=job_body(epl, profile_value("on-demand")))

    assert answer.status_code == 422
    assert answer.json()[0]["code"] == "referenceNotFound"


def test_profiles_are_created_used_and_protected_while_assigned(acme: httpx.Client, epl: str) -> None:
    body = {k: v for k, v in profile_value("on-demand").items() if k != "@type"}
    profile = acme.post(f"{ALLEGRO_PM}/performanceProfile", json={**body, "lifecycleStatus": "approved"})
    assert profile.status_code == 201, profile.text
    ref = {"@type": "PerformanceProfileRef", "performanceProfileId": profile.json()["id"]}

    job = acme.post(f"{ALLEGRO_PM}/performanceJob", json=job_body(epl, ref))

    assert job.status_code == 201, job.text
    assert acme.get(f"{ALLEGRO_PM}/performanceProfile/{ref['performanceProfileId']}").json()["isAssigned"]
    assert acme.delete(f"{ALLEGRO_PM}/performanceProfile/{ref['performanceProfileId']}").status_code == 422
    patched = acme.patch(
        f"{ALLEGRO_PM}/performanceProfile/{ref['performanceProfileId']}", json={"description": "EPL PM"}
    )
    assert patched.status_code == 200 and patched.json()["description"] == "EPL PM"


def test_an_on_demand_report_covers_the_timeframe_asked(acme: httpx.Client, epl: str) -> None:
    now = utcnow()
    body = {
        "granularity": duration(60),
        "monitoredObject": [{"@type": "ServiceRef", "serviceId": epl}],
        "outputFormat": "json",
        "resultFormat": "payload",
        "reportingTimeframe": {
            "reportingStartDate": iso(now - timedelta(seconds=60)),
            "reportingEndDate": iso(now),
        },
        "serviceSpecificConfiguration": {
            "@type": "urn:lso:performance:carrier-ethernet-frame-performance-configuration"
        },
    }

    created = acme.post(f"{ALLEGRO_PM}/performanceReport", json=body)

    assert created.status_code == 201, created.text
    report = acme.get(f"{ALLEGRO_PM}/performanceReport/{created.json()['id']}").json()
    assert report["state"] == "completed"
    assert (
        report["reportContent"][0]["reportContentItem"][0]["measurementData"][0]["oneWayMeanFrameDelayMs"] > 0
    )


def test_legato_and_interlude_mounts_answer_the_same(
    domain: Settings, bus: httpx.Client, acme: httpx.Client, epl: str
) -> None:
    on_legato = bus.post(f"{LEGATO_PM}/performanceJob", json=job_body(epl, profile_value("on-demand")))
    assert on_legato.status_code == 201, on_legato.text
    assert on_legato.json()["href"].endswith(f"{LEGATO_PM}/performanceJob/{on_legato.json()['id']}")
    assert acme.get(f"{LEGATO_PM}/performanceJob").status_code == 403

    on_interlude = acme.post(f"{INTERLUDE_PM}/performanceJob", json=job_body(epl, profile_value("on-demand")))
    assert on_interlude.status_code == 201, on_interlude.text
    assert wait_until(lambda: _job(acme, on_interlude.json()["id"], INTERLUDE_PM)["state"] == "completed")
    assert bus.get(f"{INTERLUDE_PM}/performanceJob").status_code == 403
    with party_client(domain.base_url, "carrier-x", DEMO_BUYERS["carrier-x"]) as partner:
        assert partner.get(f"{INTERLUDE_PM}/performanceJob").json() == []
        refused = partner.post(
            f"{INTERLUDE_PM}/performanceJob", json=job_body(epl, profile_value("on-demand"))
        )
        assert refused.status_code == 422, "a partner monitors only services ordered for it"
