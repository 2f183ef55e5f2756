"""CANTATA productOrder: create, list, get, paging and filters, 422s with property paths, party isolation."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest

from tests.bus.test_order_bodies import ORDERING, epl_order


def _create(client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"{ORDERING}/productOrder", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _stored(client: httpx.Client, external_id: str) -> int:
    response = client.get(f"{ORDERING}/productOrder", params={"externalId": external_id})
    assert response.status_code == 200
    return int(response.headers["X-Total-Count"])


def test_create_answers_acknowledged_with_id_href_and_state_change(acme: httpx.Client) -> None:
    body = epl_order()
    order = _create(acme, body)
    assert order["state"] == "acknowledged"
    assert order["href"].endswith(f"{ORDERING}/productOrder/{order['id']}")
    assert [c["state"] for c in order["stateChange"]] == ["acknowledged"]
    assert order["externalId"] == body["externalId"] and "completionDate" not in order
    assert [i["id"] for i in order["productOrderItem"]] == ["uni-a", "uni-z", "evc"]
    assert {i["state"] for i in order["productOrderItem"]} == {"acknowledged"}
    fetched = acme.get(f"{ORDERING}/productOrder/{order['id']}")
    assert fetched.status_code == 200 and fetched.json()["id"] == order["id"]


def test_list_pages_and_filters_by_external_id_and_project(acme: httpx.Client) -> None:
    project = f"project-{epl_order()['externalId']}"
    created = []
    for _ in range(3):
        body = epl_order()
        body["projectId"] = project
        created.append(_create(acme, body))
    first = acme.get(f"{ORDERING}/productOrder", params={"projectId": project, "limit": 2})
    second = acme.get(f"{ORDERING}/productOrder", params={"projectId": project, "limit": 2, "offset": 2})
    assert first.headers["X-Total-Count"] == "3" and first.headers["X-Result-Count"] == "2"
    assert second.headers["X-Result-Count"] == "1"
    listed = [o["id"] for o in first.json() + second.json()]
    assert sorted(listed) == sorted(o["id"] for o in created)
    assert set(first.json()[0]) <= {
        "id",
        "href",
        "externalId",
        "projectId",
        "orderDate",
        "state",
        "completionDate",
    }
    only = acme.get(f"{ORDERING}/productOrder", params={"externalId": created[1]["externalId"]}).json()
    assert [o["id"] for o in only] == [created[1]["id"]]


def test_list_filters_by_dates_and_item_dates(acme: httpx.Client) -> None:
    order = _create(acme, epl_order())
    after = acme.get(f"{ORDERING}/productOrder", params={"orderDate.gt": order["orderDate"]}).json()
    assert order["id"] not in [o["id"] for o in after]
    before = {"itemRequestedCompletionDate.lt": "2030-01-16T00:00:00Z", "externalId": order["externalId"]}
    assert [o["id"] for o in acme.get(f"{ORDERING}/productOrder", params=before).json()] == [order["id"]]
    later = {"itemRequestedCompletionDate.gt": "2030-01-16T00:00:00Z", "externalId": order["externalId"]}
    assert acme.get(f"{ORDERING}/productOrder", params=later).json() == []
    bad = acme.get(f"{ORDERING}/productOrder", params={"orderDate.gt": "yesterday"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalidQuery"


def _issues(client: httpx.Client, body: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.post(f"{ORDERING}/productOrder", json=body)
    assert response.status_code == 422, response.text
    assert _stored(client, body["externalId"]) == 0
    issues: list[dict[str, Any]] = response.json()
    return issues


def _paths(issues: list[dict[str, Any]]) -> set[str]:
    return {issue["propertyPath"] for issue in issues}


def test_invalid_configuration_is_422_at_its_property_and_nothing_is_stored(acme: httpx.Client) -> None:
    body = epl_order()
    body["productOrderItem"][0]["product"]["productConfiguration"]["listOfPhyLinks"][0]["physicalLink"] = (
        "FAST"
    )
    issues = _issues(acme, body)
    assert "/productOrderItem/0/product/productConfiguration/listOfPhyLinks/0/physicalLink" in _paths(issues)


def test_unknown_type_is_422(acme: httpx.Client) -> None:
    body = epl_order()
    body["productOrderItem"][2]["product"]["productConfiguration"]["@type"] = "urn:example:teleport:v1"
    assert _paths(_issues(acme, body)) == {"/productOrderItem/2/product/productConfiguration/@type"}


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (
            lambda b: b["productOrderItem"][2].update(productOrderItemRelationship=[]),
            "/productOrderItem/2/productOrderItemRelationship",
        ),
        (
            lambda b: b["productOrderItem"][2]["productOrderItemRelationship"][1].update(id="nope"),
            "/productOrderItem/2/productOrderItemRelationship/1/id",
        ),
        (
            lambda b: b["productOrderItem"][2]["productOrderItemRelationship"][1].update(id="evc"),
            "/productOrderItem/2/productOrderItemRelationship/1/id",
        ),
        (
            lambda b: b["productOrderItem"][2]["productOrderItemRelationship"][0].update(
                relationshipType="LIKES"
            ),
            "/productOrderItem/2/productOrderItemRelationship/0/relationshipType",
        ),
        (
            lambda b: b["productOrderItem"][2]["product"].update(
                productRelationship=[{"id": "no-such", "relationshipType": "CONNECTS_TO_UNI"}]
            ),
            "/productOrderItem/2/product/productRelationship/0/id",
        ),
        (lambda b: b["productOrderItem"][0]["product"].pop("place"), "/productOrderItem/0/product/place"),
        (
            lambda b: b["productOrderItem"][0]["product"]["place"][0]["place"].update(id="site-atlantis"),
            "/productOrderItem/0/product/place/0/place",
        ),
        (lambda b: b["productOrderItem"][1].update(id="uni-a"), "/productOrderItem/1/id"),
        (
            lambda b: b["productOrderItem"][2]["product"]["productOffering"].update(id="lso-uni"),
            "/productOrderItem/2/product/productOffering/id",
        ),
        (lambda b: b["productOrderItem"][1].update(action="delete"), "/productOrderItem/1/action"),
        (
            lambda b: b["productOrderItem"][1]["product"].pop("productConfiguration"),
            "/productOrderItem/1/product/productConfiguration",
        ),
        (
            lambda b: b["productOrderItem"][0].pop("requestedCompletionDate"),
            "/productOrderItem/0/requestedCompletionDate",
        ),
        (lambda b: b.pop("relatedContactInformation"), "/relatedContactInformation"),
        (lambda b: b.update(productOrderItem=[]), "/productOrderItem"),
    ],
)
def test_broken_structure_is_422_with_property_path(acme: httpx.Client, change: Any, path: str) -> None:
    body = copy.deepcopy(epl_order())
    change(body)
    issues = _issues(acme, body)
    assert path in _paths(issues), issues
    assert all(
        issue["code"]
        in {
            "missingProperty",
            "invalidValue",
            "invalidFormat",
            "referenceNotFound",
            "unexpectedProperty",
            "otherIssue",
        }
        for issue in issues
    )


def test_malformed_json_is_400(acme: httpx.Client) -> None:
    response = acme.post(
        f"{ORDERING}/productOrder", content=b"{", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400 and response.json()["code"] == "invalidBody"


def test_another_partys_order_is_not_found(acme: httpx.Client, globex: httpx.Client) -> None:
    order = _create(acme, epl_order())
    response = globex.get(f"{ORDERING}/productOrder/{order['id']}")
    assert response.status_code == 404 and response.json()["code"] == "notFound"
    listed = globex.get(f"{ORDERING}/productOrder", params={"externalId": order["externalId"]})
    assert listed.json() == [] and listed.headers["X-Total-Count"] == "0"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PATCH", "/productOrder/x"),
        ("POST", "/cancelProductOrder"),
        ("GET", "/cancelProductOrder"),
        ("GET", "/cancelProductOrder/x"),
        ("POST", "/modifyProductOrderItemRequestedDeliveryDate"),
        ("GET", "/modifyProductOrderItemRequestedDeliveryDate"),
        ("GET", "/charge"),
        ("PATCH", "/charge/x"),
    ],
)
def test_operations_not_offered_answer_501(acme: httpx.Client, method: str, path: str) -> None:
    response = acme.request(method, f"{ORDERING}{path}", json={})
    assert response.status_code == 501
    assert response.json()["code"] == "notImplemented"
