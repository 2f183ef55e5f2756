"""What a buyer provider gets from INTERLUDE in this process's domain (the two-domain flows are in
test_interlude.py): SOF keeps of its serviceOrder only what it validated against the Kylie document, and
its test jobs can be cancelled and are announced on its serviceFunctionTesting hub."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from lso.settings import Settings
from lso.sof import test_jobs
from lso.sof.end_to_end import end_to_end_job_body
from lso.sof.interlude_client import order_body
from tests.harness import party_client, subscribed, wait_until
from tests.sof.orders import EVC, epl_order
from tests.twodomains import PARTNER_BUYER

INTERLUDE_ORDERING = "/mefApi/interlude/serviceOrderingManagement/v1"
INTERLUDE_TESTING = "/mefApi/interlude/serviceFunctionTesting/v3"
INTERLUDE_INVENTORY = "/mefApi/interlude/serviceInventory/v2"
EVC_CONFIGURATION = {
    "@type": EVC,
    "evcType": "POINT_TO_POINT",
    "maximumFrameSize": 1522,
    "listOfCosNames": ["H"],
    "ingressBwp": {
        "cir": {"irValue": 10, "irUnits": "MBPS"},
        "cbs": {"dataSizeValue": 64, "dataSizeUnits": "KBYTES"},
        "eir": {"irValue": 0, "irUnits": "MBPS"},
        "ebs": {"dataSizeValue": 0, "dataSizeUnits": "KBYTES"},
    },
}
CONTACT = {"role": "notificationContact", "name": "NOC", "emailAddress": "noc@x.example", "number": "1"}


@pytest.fixture
def carrier_x(domain: Settings) -> Iterator[httpx.Client]:
    with party_client(domain.base_url, *PARTNER_BUYER) as client:
        yield client


def _order(**extra: Any) -> dict[str, Any]:
    return {**epl_order("site-ldn-docklands", "site-ldn-city", 10), **extra}


def test_a_malformed_nested_property_is_refused_with_its_path(carrier_x: httpx.Client) -> None:
    contact = {**CONTACT, "postalAddress": {"city": "Lyon", "subUnit": [{"subUnitType": "FLAT"}]}}
    refused = carrier_x.post(
        f"{INTERLUDE_ORDERING}/serviceOrder", json=_order(relatedContactInformation=[contact])
    )
    assert refused.status_code == 422, refused.text
    assert (
        refused.json()[0]["propertyPath"]
        == "/relatedContactInformation/0/postalAddress/subUnit/0/subUnitNumber"
    )
    place = {"role": "INSTALL_LOCATION", "place": {"@type": "GeographicAddressRef", "id": "somewhere"}}
    body = _order()
    body["serviceOrderItem"][0]["service"]["place"] = [place]
    refused = carrier_x.post(f"{INTERLUDE_ORDERING}/serviceOrder", json=body)
    assert refused.status_code == 422, refused.text
    assert refused.json()[0]["propertyPath"] == "/serviceOrderItem/0/service/place/0/place/@type"


def test_only_what_was_validated_is_kept_and_answered(carrier_x: httpx.Client) -> None:
    contact = {
        **CONTACT,
        "postalAddress": {"city": "Lyon", "subUnit": [{"subUnitType": "FLAT", "subUnitNumber": "2"}]},
    }
    body = _order(relatedContactInformation=[contact], unknownProperty={"anything": 1}, coordinatedAction=[])
    body["serviceOrderItem"][0]["service"]["partnerShare"] = {"partnerId": "x", "interludeUrl": "http://x"}
    body["serviceOrderItem"][0]["service"]["state"] = "active"
    created = carrier_x.post(f"{INTERLUDE_ORDERING}/serviceOrder", json=body)
    assert created.status_code == 201, created.text
    for answer in (
        created.json(),
        carrier_x.get(f"{INTERLUDE_ORDERING}/serviceOrder/{created.json()['id']}").json(),
    ):
        assert answer["relatedContactInformation"] == [contact]
        assert "unknownProperty" not in answer and "coordinatedAction" not in answer
        service = answer["serviceOrderItem"][0]["service"]
        # a partner share is BUS's word to its own SOF over LEGATO; a buyer's is not kept
        assert "partnerShare" not in service and "state" not in service
        assert service["place"] == body["serviceOrderItem"][0]["service"]["place"]


@pytest.fixture
def carrier_x_ovc(carrier_x: httpx.Client) -> dict[str, str]:
    """An active OVC of the buyer's (and its UNI) in this domain, ordered over INTERLUDE."""
    key = f"interlude:{uuid.uuid4()}:evc"
    share = {"siteId": "site-ldn-docklands", "partnerEnniId": "enni-carrier-x-1"}
    body = order_body(key, share, {"serviceConfiguration": EVC_CONFIGURATION})
    created = carrier_x.post(f"{INTERLUDE_ORDERING}/serviceOrder", json=body)
    assert created.status_code == 201, created.text
    order_id = created.json()["id"]
    order = wait_until(
        lambda: (
            (o := carrier_x.get(f"{INTERLUDE_ORDERING}/serviceOrder/{order_id}").json())["state"]
            in {"completed", "failed", "rejected"}
            and o
        )
    )
    assert order["state"] == "completed", order
    found = carrier_x.get(f"{INTERLUDE_INVENTORY}/service", params={"externalId": key}).json()
    return {s["serviceOrderItem"][0]["itemId"]: s["id"] for s in found}


def test_a_buyer_cancels_its_test_job_in_progress_and_hears_of_it(
    carrier_x: httpx.Client, carrier_x_ovc: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with subscribed(carrier_x, INTERLUDE_TESTING) as listener:
        # ICM is never asked (as if its test took long): the job stays in progress until cancelled.
        monkeypatch.setattr(test_jobs, "start", lambda _job_id: None)
        body = end_to_end_job_body("cancelled-probe", carrier_x_ovc["uni"], carrier_x_ovc["ovc"])
        job = carrier_x.post(f"{INTERLUDE_TESTING}/testJob", json=body).json()
        monkeypatch.undo()
        assert job["state"] == "inProgress"
        cancel = {"testJob": {"id": job["id"]}, "cancellationReason": "window closed"}
        accepted = carrier_x.post(f"{INTERLUDE_TESTING}/cancelTestJob", json=cancel)
        assert accepted.status_code == 201, accepted.text
        assert accepted.json()["state"] == "accepted"
        ended = carrier_x.get(f"{INTERLUDE_TESTING}/testJob/{job['id']}").json()
        assert ended["state"] == "cancelled" and "window closed" in ended["terminationError"][0]["value"]
        listed = carrier_x.get(f"{INTERLUDE_TESTING}/cancelTestJob", params={"testJobId": job["id"]}).json()
        assert [c["id"] for c in listed] == [accepted.json()["id"]]
        wait_until(lambda: listener.about("cancelTestJobStateChangeEvent", accepted.json()["id"]))
        assert listener.about("testJobCreateEvent", job["id"])
        (change,) = listener.about("testJobStateChangeEvent", job["id"])
        assert change["event"]["state"] == "cancelled"
    # A job that has ended is not cancelled: the request is rejected, saying why.
    again = carrier_x.post(f"{INTERLUDE_TESTING}/cancelTestJob", json=cancel).json()
    assert again["state"] == "rejected" and "already ended" in again["cancellationDeniedReason"]
    unknown = carrier_x.post(f"{INTERLUDE_TESTING}/cancelTestJob", json={"testJob": {"id": "nope"}})
    assert unknown.status_code == 422 and unknown.json()[0]["propertyPath"] == "/testJob/id"


def test_a_completed_test_job_is_announced_and_what_is_not_offered_is_501(
    carrier_x: httpx.Client, carrier_x_ovc: dict[str, str]
) -> None:
    with subscribed(carrier_x, INTERLUDE_TESTING) as listener:
        body = end_to_end_job_body("announced-probe", carrier_x_ovc["uni"], carrier_x_ovc["ovc"])
        job = carrier_x.post(f"{INTERLUDE_TESTING}/testJob", json=body).json()
        (change,) = wait_until(lambda: listener.about("testJobStateChangeEvent", job["id"]))
    assert change["event"]["state"] == "completed"
    assert carrier_x.get(f"{INTERLUDE_TESTING}/testJob/{job['id']}").json()["state"] == "completed"
    # Read without the conformance recorder: the Kylie document lists no 501 for the process operations,
    # but MEF's answer to an optional operation a seller does not offer is 501 (docs/interlude.md).
    with httpx.Client(base_url=str(carrier_x.base_url), auth=carrier_x.auth) as unrecorded:
        suspend = unrecorded.post(f"{INTERLUDE_TESTING}/suspendTestJob", json={"testJob": {"id": job["id"]}})
    assert suspend.status_code == 501 and suspend.json()["code"] == "notImplemented"
