"""What SOF keeps of a serviceOrder a buyer provider sends over INTERLUDE: only what it validated against
the Kylie document (tests on this process's domain; the two-domain flows are in test_interlude.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from lso.settings import Settings
from tests.harness import party_client
from tests.sof.orders import epl_order
from tests.twodomains import PARTNER_BUYER

INTERLUDE_ORDERING = "/mefApi/interlude/serviceOrderingManagement/v1"
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
