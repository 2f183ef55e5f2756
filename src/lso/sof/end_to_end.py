"""The end-to-end activation of an off-net EPL whose partner is on INTERLUDE (MEF 55.0.1 §10.2 steps
9b-a, 12–13), as steps of the activation workflow (:mod:`lso.sof.activation`).

Once our segment is active and its activation test passed, SOF orders the partner's share from the
partner's SOF (:mod:`lso.sof.interlude_client`), then has the partner test its OVC: a test job created
over INTERLUDE serviceFunctionTesting, named ``end-to-end:<our order>:<our item>`` (a re-run step finds it
by name), read until it ends. The EVC service records both shares' tests and one verdict; the EVC is
active only when both passed, otherwise the item fails with the partner's reason and the workflow takes
our segment down as for any failed activation.
"""

from __future__ import annotations

import functools

from dbos import DBOS
from dbos._error import DBOSMaxStepRetriesExceeded  # not exported by dbos itself

from lso.mef import runtime
from lso.mef.dates import later
from lso.mef.store import Document
from lso.sof import interlude_changes, interlude_client, records
from lso.sof.activation import ActivationError, fact, service_id
from lso.sof.interlude_client import InterludeError, partner_step

ACTIVATION_PROFILE = "lso-y1564-activation"
ACTIVATION_JOB_TYPE = "lso:y1564-activation"
"""The test profile and job type an lso partner offers (``lso.sof.testing``): its activation test."""
TEST_FINAL_STATES = {"completed", "cancelled"}
TEST_POLL_S = 1.0
MAX_TEST_WAITS = 600


def activate_partner_share(order_id: str, item_id: str, share: Document, given: Document) -> None:
    """§10.2 steps 9b-a, 12–13 over INTERLUDE: the partner's SOF builds its share, then the end-to-end
    test is ours (passed above) and the partner's; the EVC is active only when both passed. A share that
    completed but failed its test is withdrawn before our item fails (our segment is then released)."""
    link = interlude_client.order_share(order_id, item_id, share, given)
    if link["state"] != "completed":
        reason = link.get("reason") or f"its order {link.get('id')} ended {link['state']}"
        raise ActivationError(item_id, f"partner {share['partnerId']}: {reason}")
    test = test_share(link)
    record_end_to_end_test(order_id, item_id, link, test)
    if test["verdict"] != "pass":
        reason = test.get("reason") or f"its activation test {test.get('partnerTestJobId')} failed"
        withdrawn = interlude_changes.withdraw_share(order_id, item_id, link)
        raise ActivationError(item_id, f"partner {share['partnerId']}: {reason}; {withdrawn}")


@DBOS.step(name="sof.record_end_to_end_test")
def record_end_to_end_test(order_id: str, item_id: str, link: Document, test: Document) -> None:
    """The end-to-end activation test on the EVC service: our test job and the partner's, one verdict."""
    with runtime.current().db.session() as session:
        service = records.SERVICES.get(session, service_id(order_id, item_id))
        own = fact(service, "testJob")
        records.characteristic(
            service, "partnerServiceOrder", {"partnerId": link["partnerId"], "id": link["id"]}
        )
        shown = ("partnerTestJobId", "partnerTestResult", "verdict", "reason")
        outcome = {"testJobId": own, **{k: test[k] for k in shown if test.get(k) is not None}}
        records.characteristic(service, "endToEndActivationTest", outcome)
        records.SERVICES.put(session, service)


def test_share(link: Document) -> Document:
    """In the activation workflow: the partner's share of the end-to-end test — a test job of its OVC
    created over INTERLUDE serviceFunctionTesting now that both parts are active — once it has ended (a
    partner that refuses the job, or does not answer, fails it)."""
    try:
        job = request_partner_test(link)
        return wait_for_test(link["partnerId"], job)
    except (InterludeError, DBOSMaxStepRetriesExceeded) as exc:
        return {"state": "cancelled", "verdict": "fail", "reason": f"its test could not be run: {exc}"}


def wait_for_test(partner_id: str, job: Document) -> Document:
    """In a workflow: the partner's test job (as :func:`read_partner_test` sums it up) once it ended."""
    read = functools.partial(read_partner_test, partner_id, job["id"])
    return interlude_client.wait_for(job, read, TEST_FINAL_STATES, TEST_POLL_S, MAX_TEST_WAITS)


@partner_step("sof.interlude.request_partner_test")
def request_partner_test(link: Document) -> Document:
    """Create the partner's test job of its OVC (or find the one a first run created: same name)."""
    name = f"end-to-end:{link['serviceOrderId']}:{link['serviceOrderItemId']}"
    client = interlude_client.partner_client(link["partnerId"])
    try:
        known = client.test_jobs(name)
        if known:
            return _test_summary(known[0], [])
        services = client.share_services(link)
        if interlude_client.OVC_ITEM not in services or interlude_client.UNI_ITEM not in services:
            return {
                "state": "cancelled",
                "verdict": "fail",
                "reason": "the partner shows no OVC of its order",
            }
        body = end_to_end_job_body(
            name, services[interlude_client.UNI_ITEM]["id"], services[interlude_client.OVC_ITEM]["id"]
        )
        return _test_summary(client.create_test_job(body), [])
    finally:
        client.close()


def end_to_end_job_body(name: str, uni_service_id: str, ovc_service_id: str) -> Document:
    return {
        "name": name,
        "description": "The partner's share of an end-to-end service activation test",
        "requestedEndDateTime": later(hours=1),
        "testProfile": {"@type": "TestProfileRef", "id": ACTIVATION_PROFILE},
        "relatedServiceFrom": {"id": uni_service_id},
        "relatedServiceTo": {"id": ovc_service_id},
        "serviceSpecificTestJobConfiguration": {"@type": ACTIVATION_JOB_TYPE, "evcServiceId": ovc_service_id},
    }


@partner_step("sof.interlude.read_partner_test")
def read_partner_test(partner_id: str, job_id: str) -> Document:
    client = interlude_client.partner_client(partner_id)
    try:
        job = client.test_job(job_id)
        results = client.test_results(job_id) if job.get("state") == "completed" else []
    finally:
        client.close()
    return _test_summary(job, results)


def _test_summary(job: Document, results: list[Document]) -> Document:
    verdicts = [r.get("serviceSpecificTestResultConfiguration", {}).get("verdict") for r in results]
    passed = job.get("state") == "completed" and bool(verdicts) and all(v == "pass" for v in verdicts)
    errors = [e.get("value") for e in job.get("terminationError") or [] if isinstance(e, dict)]
    return {
        "id": job["id"],
        "state": job.get("state"),
        "partnerTestJobId": job["id"],
        "partnerTestResult": [r["id"] for r in results],
        "verdict": "pass" if passed else "fail",
        "reason": "; ".join(str(e) for e in errors if e) or None,
    }
