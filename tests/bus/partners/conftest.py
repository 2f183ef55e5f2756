"""Fixtures of the partner tests: a partner domain next to this process's provider domain."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from lso.settings import Settings
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
