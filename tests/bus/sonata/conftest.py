"""SONATA buyers of the shared demo domain: the seeded ``carrier-x`` and a second buyer for isolation."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from lso.db import Database
from lso.security.tokens import register_client
from lso.settings import Settings
from tests.bus.sonata.bodies import BUYER
from tests.harness import party_client

OTHER_BUYER = ("carrier-y", "carrier-y-secret")


@pytest.fixture
def carrier_x(domain: Settings) -> Iterator[httpx.Client]:
    with party_client(domain.base_url, *BUYER) as client:
        yield client


@pytest.fixture
def carrier_y(domain: Settings) -> Iterator[httpx.Client]:
    """Another provider buying over SONATA (registered as an operator would, with role buyer)."""
    db = Database(domain.database_url)
    with db.session() as session:
        register_client(session, *OTHER_BUYER, OTHER_BUYER[0], "buyer")
    db.dispose()
    with party_client(domain.base_url, *OTHER_BUYER) as client:
        yield client
