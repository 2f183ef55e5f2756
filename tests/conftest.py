"""Fixtures shared by the whole suite: one demo domain per test process, and clients of its parties."""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest

from lso.domain import DEMO_CUSTOMERS
from lso.settings import Settings
from tests.harness import domain_in_thread, party_client


@pytest.fixture(scope="session")
def domain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A running demo domain (SQLite, or PostgreSQL when LSO_DATABASE_URL is set)."""
    with domain_in_thread(tmp_path_factory.mktemp("domain")) as settings:
        yield settings


def _client(settings: Settings, party: str) -> Iterator[httpx.Client]:
    with party_client(settings.base_url, party, DEMO_CUSTOMERS[party]) as client:
        yield client


@pytest.fixture
def acme(domain: Settings) -> Iterator[httpx.Client]:
    yield from _client(domain, "acme")


@pytest.fixture
def globex(domain: Settings) -> Iterator[httpx.Client]:
    yield from _client(domain, "globex")


def require(condition: bool, reason: str) -> None:
    """Skip when ``condition`` is false — unless LSO_REQUIRE_ALL=1 (CI), where a skip is a failure."""
    if condition:
        return
    if os.environ.get("LSO_REQUIRE_ALL") == "1":
        pytest.fail(f"required but unavailable: {reason}")
    pytest.skip(reason)
