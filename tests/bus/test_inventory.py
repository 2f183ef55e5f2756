"""CANTATA productInventory: the products a completed order creates, listed with filters and paging."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from lso.domain import DEMO_CUSTOMERS
from lso.settings import Settings
from tests.bus.test_order_bodies import INVENTORY, ORDERING, epl_order
from tests.harness import party_client, wait_until


@pytest.fixture(scope="module")
def installed(domain: Settings) -> Iterator[tuple[httpx.Client, str]]:
    """An acme client and the id of an EPL order (Leeds to Manchester) that has completed."""
    with party_client(domain.base_url, "acme", DEMO_CUSTOMERS["acme"]) as acme:
        order = acme.post(f"{ORDERING}/productOrder", json=epl_order("site-lds-park", "site-man-central", 30))
        assert order.status_code == 201
        order_id = order.json()["id"]

        def state() -> str:
            return str(acme.get(f"{ORDERING}/productOrder/{order_id}").json()["state"])

        assert (
            wait_until(lambda: state() in {"completed", "failed", "rejected"} and state(), 120) == "completed"
        )
        yield acme, order_id


def _ids(client: httpx.Client, **params: Any) -> set[str]:
    response = client.get(f"{INVENTORY}/product", params=params)
    assert response.status_code == 200, response.text
    return {p["id"] for p in response.json()}


def test_products_carry_offering_specification_place_and_order(installed: tuple[httpx.Client, str]) -> None:
    acme, order_id = installed
    products = acme.get(f"{INVENTORY}/product", params={"productOrderId": order_id}).json()
    assert len(products) == 3
    for summary in products:
        product = acme.get(f"{INVENTORY}/product/{summary['id']}").json()
        assert product["status"] == "active" and product["statusChange"][0]["status"] == "active"
        assert product["productOrderItem"][0]["productOrderId"] == order_id
        assert product["productOffering"]["id"] and product["productSpecification"]["id"]
        assert product["startDate"] <= product["lastUpdateDate"]


def test_filters_select_by_offering_specification_site_address_and_status(
    installed: tuple[httpx.Client, str],
) -> None:
    acme, order_id = installed
    mine = _ids(acme, productOrderId=order_id)
    evc = _ids(acme, productOrderId=order_id, productOfferingId="lso-epl")
    unis = _ids(acme, productOrderId=order_id, productSpecificationId="carrier-ethernet-subscriber-uni")
    assert len(evc) == 1 and len(unis) == 2 and evc | unis == mine
    assert _ids(acme, productOrderId=order_id, productSpecificationId="epl-evc") == evc
    leeds = _ids(acme, productOrderId=order_id, geographicSiteId="site-lds-park")
    assert len(leeds) == 1 and leeds < unis
    assert _ids(acme, productOrderId=order_id, geographicAddressId="addr-lds-park") == leeds
    assert _ids(acme, productOrderId=order_id, status="active") == mine
    assert _ids(acme, productOrderId=order_id, status="terminated") == set()
    assert _ids(acme, productOrderId=order_id, **{"startDate.gt": "2100-01-01T00:00:00Z"}) == set()
    assert _ids(acme, relatedProductId=sorted(leeds)[0]) == evc


def test_paging_and_bad_queries(installed: tuple[httpx.Client, str]) -> None:
    acme, order_id = installed
    page = acme.get(f"{INVENTORY}/product", params={"productOrderId": order_id, "limit": 2, "offset": 1})
    assert page.headers["X-Total-Count"] == "3" and page.headers["X-Result-Count"] == "2"
    unknown = acme.get(f"{INVENTORY}/product", params={"colour": "blue"})
    assert unknown.status_code == 400 and unknown.json()["code"] == "invalidQuery"
    bad_date = acme.get(f"{INVENTORY}/product", params={"startDate.gt": "soon"})
    assert bad_date.status_code == 400


def test_products_of_another_party_are_invisible(
    installed: tuple[httpx.Client, str], globex: httpx.Client
) -> None:
    acme, order_id = installed
    product_id = sorted(_ids(acme, productOrderId=order_id))[0]
    assert globex.get(f"{INVENTORY}/product/{product_id}").status_code == 404
    assert _ids(globex, productOrderId=order_id) == set()
