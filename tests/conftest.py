"""Fixtures shared by the whole suite: one demo domain per test process, and clients of its parties.

Every client handed out here checks each MEF response it receives against the official MEF document
(tests/conformance/openapi.py); :func:`pytest_runtest_call` fails the test that received a violation.
"""

from __future__ import annotations

import ast
import dataclasses
import os
import threading
import uuid
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest
from psycopg import sql

from lso.domain import DEMO_CUSTOMERS
from lso.settings import Settings
from tests.conformance.openapi import HOW_TO_GET_SPECS, RECORDER, specs_root
from tests.harness import domain_in_thread, domain_process, internal_client, party_client

_AST_LOCK = threading.RLock()
_ast_parse = ast.parse


def _parse_one_at_a_time(*args: Any, **kwargs: Any) -> Any:
    with _AST_LOCK:
        return _ast_parse(*args, **kwargs)


# Python 3.11 keeps one AST recursion counter per interpreter, not per thread (CPython gh-106905): when a
# domain's thread formats a traceback (traceback.py parses the source line) while hypothesis parses source
# in the test's thread, one of them fails with a spurious SystemError. Fuzzing failed CI that way.
ast.parse = _parse_one_at_a_time


def require(condition: bool, reason: str) -> None:
    """Skip when ``condition`` is false — unless LSO_REQUIRE_ALL=1 (CI), where a skip is a failure."""
    if condition:
        return
    if os.environ.get("LSO_REQUIRE_ALL") == "1":
        pytest.fail(f"required but unavailable: {reason}")
    pytest.skip(reason)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """Fail a test that received a MEF response the official document does not allow."""
    RECORDER.take()  # responses of an earlier test's teardown are not this test's
    result = yield
    found = RECORDER.take()
    if found:
        listing = "\n  ".join(found)
        raise AssertionError(f"{len(found)} MEF conformance violation(s):\n  {listing}")
    return result


@pytest.fixture(scope="session")
def mef_specs() -> Path:
    """The folder of the official MEF SDKs (LSO_MEF_SPECS)."""
    root = specs_root()
    require(root is not None, HOW_TO_GET_SPECS)
    assert root is not None
    return root


@pytest.fixture(scope="session")
def domain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A running demo domain (SQLite, or PostgreSQL when LSO_DATABASE_URL is set)."""
    # SLS assessment every second (60 s in production), so degradation tests see it act promptly
    with domain_in_thread(tmp_path_factory.mktemp("domain"), sls_period_s=1.0) as settings:
        yield settings


def _fresh_database(admin_url: str) -> Iterator[str]:
    """CREATE DATABASE for this test process (xdist worker); DROP it afterwards."""
    name = f"lso_test_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlsplit(admin_url)._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def postgres_domain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A demo domain on a fresh PostgreSQL database, served by ``lso serve`` in a child process (DBOS is
    one per process, and this process may already run the SQLite ``domain``)."""
    yield from _postgres_domain(tmp_path_factory, ())


@pytest.fixture(scope="session")
def postgres_spread_domain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """The same, spread over three processes (``--processes 3``), each with its DBOS schema."""
    yield from _postgres_domain(tmp_path_factory, ("--processes", "3"))


def _postgres_domain(
    tmp_path_factory: pytest.TempPathFactory, options: tuple[str, ...]
) -> Iterator[Settings]:
    admin_url = os.environ.get("LSO_TEST_POSTGRES_URL", "")
    require(bool(admin_url), "LSO_TEST_POSTGRES_URL is not set (a PostgreSQL URL allowed to CREATE DATABASE)")
    data_dir = tmp_path_factory.mktemp("postgres-domain")
    for database_url in _fresh_database(admin_url):
        env = {"LSO_DATABASE_URL": database_url}
        with domain_process(data_dir, env=env, options=options) as (_process, base_url):
            port = int(base_url.rsplit(":", 1)[1])
            settings = Settings.load(data_dir, port=port, demo=True)
            yield dataclasses.replace(settings, database_url=database_url)


ANY_DOMAIN = {"sqlite": "domain", "postgres": "postgres_domain", "postgres-spread": "postgres_spread_domain"}


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("postgres-spread", marks=pytest.mark.postgres),
    ]
)
def any_domain(request: pytest.FixtureRequest) -> Settings:
    """The order-flow tests run on both databases: SQLite always, PostgreSQL when it is configured — in one
    process and spread over three."""
    settings: Settings = request.getfixturevalue(ANY_DOMAIN[request.param])
    return settings


def _client(settings: Settings, party: str) -> Iterator[httpx.Client]:
    with party_client(settings.base_url, party, DEMO_CUSTOMERS[party]) as client:
        yield client


@pytest.fixture
def acme(domain: Settings) -> Iterator[httpx.Client]:
    yield from _client(domain, "acme")


@pytest.fixture
def globex(domain: Settings) -> Iterator[httpx.Client]:
    yield from _client(domain, "globex")


@pytest.fixture
def any_acme(any_domain: Settings) -> Iterator[httpx.Client]:
    """``acme`` on :func:`any_domain`."""
    yield from _client(any_domain, "acme")


@pytest.fixture
def internal(domain: Settings) -> Iterator[Callable[[str], httpx.Client]]:
    """``internal("sof")``: a client of the internal reference points acting as one of the entities."""
    clients: list[httpx.Client] = []

    def make(entity: str) -> httpx.Client:
        clients.append(internal_client(domain, entity))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def bus(internal: Callable[[str], httpx.Client]) -> httpx.Client:
    """BUS's client of LEGATO (SOF's service order, inventory and testing APIs)."""
    return internal("bus")


@pytest.fixture
def icm(internal: Callable[[str], httpx.Client]) -> httpx.Client:
    """ICM's client of ADAGIO (and, for inspection, PRESTO)."""
    return internal("icm")
