"""schemathesis fuzzes the CANTATA and SONATA seller APIs (POQ, quote, product order; SONATA also catalog,
site and inventory), the service inventory and assurance APIs (performance monitoring, fault management,
alarms) on ALLEGRO, LEGATO and INTERLUDE, and the INTERLUDE serviceOrdering and serviceFunctionTesting APIs
from the official MEF documents.

Requests are generated from the documents — valid ones and deliberately invalid ones, and the examples
the documents carry — and sent with a bearer token to a running demo domain; every answer must be free
of server errors and conform to the document (status code, media type, body schema).

schemathesis' own pytest plugin does not run on this pytest, so each operation is driven through
hypothesis here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import checks
from schemathesis.generation import GenerationMode

from lso.security.tokens import internal_secret
from lso.settings import Settings
from tests.harness import domain_process

FUZZED_APIS = {
    "poq": "mef-lso-cantata-product-offering-qualification-management-openapi.yml",
    "quote": "mef-lso-cantata-quote-management-openapi.yml",
    "productOrder": "mef-lso-cantata-product-order-management-openapi.yml",
    "cimIncident": "mef-lso-cantata-circuit-impairment-and-maintenance-openapi.yml",
    "sonata-catalog": "mef-lso-sonata-product-catalog-openapi.yml",
    "sonata-site": "mef-lso-sonata-geographic-site-management-openapi.yml",
    "sonata-poq": "mef-lso-sonata-product-offering-qualification-management-openapi.yml",
    "sonata-quote": "mef-lso-sonata-quote-management-openapi.yml",
    "sonata-productOrder": "mef-lso-sonata-product-order-management-openapi.yml",
    "sonata-inventory": "mef-lso-sonata-product-inventory-management-openapi.yml",
    "allegro-serviceInventory": "mef-lso-allegro-service-inventory-management-openapi.yml",
    "allegro-performanceMonitoring": "mef-lso-allegro-performance-monitoring-openapi.yml",
    "allegro-faultManagement": "mef-lso-allegro-fault-management-openapi.yml",
    "allegro-alarmManagement": "mef-lso-allegro-alarm-management-openapi.yml",
    "legato-serviceInventory": "mef-lso-legato-service-inventory-management-openapi.yml",
    "legato-performanceMonitoring": "mef-lso-legato-performance-monitoring-openapi.yml",
    "legato-faultManagement": "mef-lso-legato-fault-management-openapi.yml",
    "legato-alarmManagement": "mef-lso-legato-alarm-management-openapi.yml",
    "interlude-serviceInventory": "mef-lso-interlude-service-inventory-management-openapi.yml",
    "interlude-performanceMonitoring": "mef-lso-interlude-performance-monitoring-openapi.yml",
    "interlude-faultManagement": "mef-lso-interlude-fault-management-openapi.yml",
    "interlude-alarmManagement": "mef-lso-interlude-alarm-management-openapi.yml",
    "interlude-serviceOrdering": "mef-lso-interlude-service-ordering-management-openapi.yml",
    "interlude-serviceFunctionTesting": "mef-lso-interlude-service-function-test-openapi.yml",
}
CREDENTIALS = {"cantata": ("acme", "acme-secret"), "sonata": ("carrier-x", "carrier-x-secret")}
"""Who calls each IRP: a customer over CANTATA (and ALLEGRO), the demo's buyer provider over SONATA (and
INTERLUDE); LEGATO is called by this domain's BUS (:func:`_caller`)."""
EXAMPLES_PER_OPERATION = 20
SERVED_PATHS = {"interlude-serviceFunctionTesting": ("/testJob", "/testResult", "/cancelTestJob", "/hub")}
"""Documents of which lso serves a part only (docs/interlude.md): the operations fuzzed (path prefixes).
The others answer 501 ``notImplemented``, which the document does not list for them."""
NOT_FUZZED: dict[str, set[tuple[str, str]]] = {}
"""Operations a document defines that are left out of fuzzing (method, path), per API: none today."""


def not_a_crash(_ctx: Any, response: Any, _case: Any) -> bool | None:
    """A 5xx is a defect, except 501 ``notImplemented``: MEF prescribes it for an optional operation the
    seller does not offer (``status_code_conformance`` checks the document lists it for the operation)."""
    if response.status_code >= 500 and response.status_code != 501:
        raise AssertionError(f"server error {response.status_code}: {response.text[:300]}")
    return None


CHECKS = [
    not_a_crash,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]

# schemathesis' strategies use ``random`` internally; that is theirs to fix, not a failure here.
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")


@pytest.fixture(scope="module")
def fuzzed_domain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A demo domain in a child process, not the suite's in-thread ``domain``: Python 3.11 keeps one AST
    recursion counter per interpreter, not per thread, so hypothesis parsing source here while the server's
    thread formats a traceback failed a run with a spurious SystemError (CPython gh-106905)."""
    data_dir = tmp_path_factory.mktemp("fuzzed-domain")
    with domain_process(data_dir) as (_process, base_url):
        yield Settings.load(data_dir, port=int(base_url.rsplit(":", 1)[1]), demo=True)


def _caller(document: str, domain: Settings) -> tuple[str, str]:
    """The client credentials of the party that calls the IRP of ``document``."""
    if "-legato-" in document:
        return "lso-bus", internal_secret(domain.jwt_secret, "bus")
    return CREDENTIALS["sonata" if "-sonata-" in document or "-interlude-" in document else "cantata"]


def _bearer_token(domain: Settings, credentials: tuple[str, str]) -> str:
    response = httpx.post(
        f"{domain.base_url}/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=credentials,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def _fuzz(operation: Any, base_url: str, token: str) -> str | None:
    """Run one operation's generated cases; the first failure's description, or None."""
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        case.call_and_validate(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

    try:
        run()
    except Exception as failure:  # schemathesis reports check failures as exception groups
        return f"{operation.method.upper()} {operation.path}: {str(failure)[:1500]}"
    return None


@pytest.mark.parametrize("api", sorted(FUZZED_APIS))
def test_fuzzed_requests_get_conforming_answers(api: str, mef_specs: Path, fuzzed_domain: Settings) -> None:
    schema = schemathesis.openapi.from_path(
        mef_specs / "kylie-openapi-harvest" / "openapi" / FUZZED_APIS[api]
    )
    server = schema.raw_schema["servers"][0]["url"].strip()
    base_url = fuzzed_domain.base_url + "/mefApi/" + server.split("/mefApi/", 1)[1].rstrip("/")
    token = _bearer_token(fuzzed_domain, _caller(FUZZED_APIS[api], fuzzed_domain))
    operations = [result.ok() for result in schema.get_all_operations()]
    served = SERVED_PATHS.get(api)
    operations = [op for op in operations if served is None or op.path.startswith(served)]
    skipped = NOT_FUZZED.get(api, set())
    operations = [op for op in operations if (op.method.upper(), op.path) not in skipped]
    assert operations, "the document lists no operations"
    # The caller is one the mount serves: an operation without path parameters answers it (a 400/422 for
    # an empty body is fine), not 401/403 — a refusal conforms to the document too, so without this
    # fuzzing with the wrong caller would pass. (Some lists are POSTs: Kylie's geographicSite.)
    probe = next(op for op in operations if "{" not in op.path)
    method = probe.method.upper()
    answer = httpx.request(
        method,
        base_url + probe.path,
        headers={"Authorization": f"Bearer {token}"},
        json=None if method == "GET" else {},
    )
    assert answer.status_code not in (401, 403), answer.text
    failures = [f for f in (_fuzz(op, base_url, token) for op in operations) if f]
    assert not failures, "\n\n".join(failures)
