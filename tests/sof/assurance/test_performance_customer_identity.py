"""The customer's identity reaches SOF: BUS names it on the LEGATO service order, so ALLEGRO can scope
a customer's jobs, reports and alarms to the services ordered for it."""

from __future__ import annotations

from lso.bus.order import mapping

CONTACT = {
    "role": "buyerContactInformation",
    "name": "Ann",
    "emailAddress": "ann@acme.example",
    "number": "1",
}


def _order() -> dict[str, object]:
    return {
        "id": "po-1",
        "orderDate": "2026-01-01T00:00:00.000Z",
        "productOrderItem": [{"id": "1", "requestedCompletionDate": "2026-02-01T00:00:00.000Z"}],
        "relatedContactInformation": [CONTACT],
    }


def test_the_service_order_names_the_ordering_party_as_customer() -> None:
    plan = {"item": [{"id": "1", "action": "delete", "productId": "product-1"}]}

    body = mapping.service_order(_order(), plan, {"product-1": "service-1"}, "acme")

    assert body["relatedContactInformation"] == [{**CONTACT, "role": "customer", "organization": "acme"}]


def test_without_a_party_no_customer_is_named() -> None:
    plan = {"item": [{"id": "1", "action": "delete", "productId": "product-1"}]}

    body = mapping.service_order(_order(), plan, {"product-1": "service-1"})

    assert "relatedContactInformation" not in body
