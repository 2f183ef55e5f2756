"""Fixtures of the partner tests: a partner domain next to this process's provider domain."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from lso.settings import Settings
from tests.bus.partners.test_offnet_preorder import PARIS_BERCY
from tests.bus.partners.test_partner_order import onboarded
from tests.bus.test_order_bodies import INVENTORY, ORDERING, epl_order
from tests.bus.test_order_change import product
from tests.bus.test_order_fulfilment import _final
from tests.conftest import require
from tests.twodomains import PARTNER_BUYER, PartnerDomain, admin_client, partner_domain


@pytest.fixture(scope="module")
def partner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PartnerDomain]:
    with partner_domain(tmp_path_factory.mktemp("partner")) as running:
        yield running


@pytest.fixture
def sonata_partner(partner: PartnerDomain) -> PartnerDomain:
    """The partner, once it sells over SONATA (task G's seller): its catalog answers our buyer party."""
    offerings = httpx.post(
        f"{partner.base_url}/oauth2/token", data={"grant_type": "client_credentials"}, auth=PARTNER_BUYER
    )
    require(
        offerings.status_code == 200, "the partner domain does not seed the carrier-x buyer (SONATA seller)"
    )
    token = offerings.json()["access_token"]
    catalog = httpx.get(
        f"{partner.base_url}/mefApi/sonata/productCatalog/v4/productOffering",
        headers={"Authorization": f"Bearer {token}"},
    )
    require(catalog.status_code == 200, "the partner domain serves no SONATA productCatalog yet")
    return partner


@pytest.fixture
def admin(domain: Settings) -> Iterator[httpx.Client]:
    with admin_client(domain) as client:
        yield client


@pytest.fixture
def off_net_epl(acme: httpx.Client, admin: httpx.Client, sonata_partner: PartnerDomain) -> dict[str, Any]:
    """A completed off-net EPL (London Docklands to the partner's Paris Bercy): our products by item."""
    onboarded(admin, sonata_partner)
    body = epl_order("site-ldn-docklands", "site-ldn-city", 30)
    body["productOrderItem"][1]["product"]["place"][0]["place"] = PARIS_BERCY
    order = _final(acme, acme.post(f"{ORDERING}/productOrder", json=body).json()["id"])
    assert order["state"] == "completed", order
    listed = acme.get(f"{INVENTORY}/product", params={"productOrderId": order["id"]}).json()
    return {p["productOrderItem"][0]["productOrderItemId"]: product(acme, p["id"]) for p in listed}
