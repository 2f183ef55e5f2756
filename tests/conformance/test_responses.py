"""The response check itself, and the CANTATA reads a customer makes, checked against the MEF documents.

Every client the fixtures hand out validates each MEF response it receives (conftest), so the reads
below need only assert the status: a body the official document does not allow fails the test.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.conformance.openapi import (
    RECORDER,
    document_by_name,
    find_operation,
    schema_violations,
    violations,
)

ORDER = "/mefApi/cantata/productOrderingManagement/v6"
MEF_MEDIA_TYPE = {"content-type": "application/json;charset=utf-8"}


def _response(method: str, path: str, status: int, body: object, headers: dict[str, str]) -> httpx.Response:
    request = httpx.Request(method, f"http://lso.test{path}")
    return httpx.Response(status, json=body, headers=headers, request=request)


def test_a_non_conforming_body_is_a_violation(mef_specs: Path) -> None:
    response = _response("GET", f"{ORDER}/productOrder/po-1", 200, {"id": "po-1", "state": "done"}, {})
    found = violations(mef_specs, response)
    assert any("content-type" in v for v in found)
    assert any("'done' is not one of" in v for v in found)
    assert any("'productOrderItem' is a required property" in v for v in found)


def test_an_undocumented_status_or_path_is_a_violation(mef_specs: Path) -> None:
    error = {"code": "notFound", "reason": "Not found"}
    teapot = _response("GET", f"{ORDER}/productOrder/po-1", 418, error, MEF_MEDIA_TYPE)
    unknown = _response("GET", f"{ORDER}/productOrders", 404, error, MEF_MEDIA_TYPE)
    assert "status not documented for retrieveProductOrder" in violations(mef_specs, teapot)[0]
    assert "no operation of the official MEF documents" in violations(mef_specs, unknown)[0]


def test_a_mef_error_body_conforms(mef_specs: Path) -> None:
    body = {"code": "notFound", "reason": "Not found", "message": "No productOrder po-1"}
    response = _response("GET", f"{ORDER}/productOrder/po-1", 404, body, MEF_MEDIA_TYPE)
    assert violations(mef_specs, response) == []


def test_a_place_is_validated_against_the_schema_its_type_names(mef_specs: Path) -> None:
    """OpenAPI's discriminator: ``@type`` picks the one schema of the ``oneOf`` to validate against."""
    poq = document_by_name(mef_specs, "mef-lso-cantata-product-offering-qualification-management-openapi.yml")
    place = "/components/schemas/PlaceRefOrQuery"
    site = {"@type": "GeographicSiteRef", "id": "site-ldn-city"}
    assert schema_violations(mef_specs, poq, place, site) == []
    without_id = schema_violations(mef_specs, poq, place, {"@type": "GeographicSiteRef"})
    assert without_id == ["at (root): 'id' is a required property"]


@pytest.mark.parametrize(
    ("method", "path", "document", "operation_id"),
    [
        ("POST", f"{ORDER}/productOrder", "cantata-product-order-management", "createProductOrder"),
        ("POST", "/mefApi/legato/serviceOrderingManagement/v6/serviceOrder", "legato-service-ordering", None),
        ("GET", "/restconf/data/context/topology=t1/node=n1/", "presto-nrp-openapi", None),
    ],
)
def test_paths_map_to_their_documents(
    mef_specs: Path, method: str, path: str, document: str, operation_id: str | None
) -> None:
    operation = find_operation(mef_specs, method, path)
    assert operation is not None and document in operation.document.path.name
    assert operation_id is None or operation.operation_id == operation_id


def test_the_fixture_clients_record_violations(mef_specs: Path, acme: httpx.Client) -> None:
    """The hook is really on the clients: a path no MEF document serves is recorded as a violation."""
    acme.get("/mefApi/cantata/noSuchApi/v1/thing")
    assert any("noSuchApi" in v for v in RECORDER.take())


@pytest.mark.parametrize(
    "path",
    [
        "/mefApi/cantata/productCatalog/v4/productOffering",
        "/mefApi/cantata/productCatalog/v4/productSpecification",
        "/mefApi/cantata/productOfferingQualification/v8/productOfferingQualification",
        "/mefApi/cantata/quoteManagement/v4/quote",
        f"{ORDER}/productOrder",
        "/mefApi/cantata/productInventory/v2/product",
    ],
)
def test_customer_lists_conform(mef_specs: Path, any_acme: httpx.Client, path: str) -> None:
    response = any_acme.get(path, params={"limit": 5})
    assert response.status_code == 200, response.text
    assert int(response.headers["X-Result-Count"]) == len(response.json())


def test_site_list_conforms(mef_specs: Path, any_acme: httpx.Client) -> None:
    """Kylie lists geographic sites with a POST of a place query (listGeographicSite)."""
    query = {"place": {"@type": "GeographicAddressRef", "id": "addr-bir-hub"}}
    response = any_acme.post("/mefApi/cantata/geographicSiteManagement/v8/geographicSite", json=query)
    assert response.status_code == 200, response.text
    assert [site["id"] for site in response.json()] == ["site-bir-hub"]


def test_an_unknown_order_is_a_mef_404(mef_specs: Path, acme: httpx.Client) -> None:
    response = acme.get(f"{ORDER}/productOrder/no-such-order")
    assert response.status_code == 404
    assert response.json()["code"] == "notFound"
