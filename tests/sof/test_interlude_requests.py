"""Every request body SOF's INTERLUDE client sends is one the Kylie INTERLUDE documents allow: built by the
functions the activation workflow uses and validated against the request schema of its operation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lso.sof.end_to_end import end_to_end_job_body
from lso.sof.interlude_changes import deletion_items
from lso.sof.interlude_client import ORDERING, TESTING, change_body, order_body
from tests.bus.partners.test_buyer_requests import request_violations

SHARE = {"partnerId": "carrier-x", "siteId": "site-lyo-partdieu", "partnerEnniId": "enni-carrier-x-1"}
EVC = {
    "serviceConfiguration": {
        "@type": "urn:mef:lso:spec:service:carrier-ethernet-evc:v1.0.0:all",
        "identifier": "EVC-1",
        "evcType": "POINT_TO_POINT",
        "maximumFrameSize": 1522,
        "ingressBwp": {
            "cir": {"irValue": 100, "irUnits": "MBPS"},
            "cbs": {"dataSizeValue": 64, "dataSizeUnits": "KBYTES"},
            "eir": {"irValue": 0, "irUnits": "MBPS"},
            "ebs": {"dataSizeValue": 0, "dataSizeUnits": "KBYTES"},
        },
    }
}
BODIES = [
    (f"{ORDERING}/serviceOrder", order_body("interlude:order-1:evc", SHARE, EVC)),
    (f"{TESTING}/testJob", end_to_end_job_body("end-to-end:order-1:evc", "uni-service", "ovc-service")),
    (
        f"{ORDERING}/serviceOrder",
        change_body(
            "interludeModify:order-2:m",
            "Modification",
            [{"id": "ovc", "action": "modify", "service": {"id": "ovc-service", **EVC}}],
        ),
    ),
    (
        f"{ORDERING}/serviceOrder",
        change_body(
            "interludeDelete:order-3:d", "Deletion", deletion_items({"uni": "uni-1", "ovc": "ovc-1"})
        ),
    ),
]


@pytest.mark.parametrize(("path", "body"), BODIES)
def test_sof_sends_what_the_kylie_interlude_documents_allow(mef_specs: Path, path: str, body: Any) -> None:
    assert request_violations(mef_specs, "POST", path, body) == []
