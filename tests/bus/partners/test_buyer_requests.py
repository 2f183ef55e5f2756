"""Every request body the SONATA buyer sends is one the Kylie SONATA documents allow: the bodies are built
by the same functions the on-boarding and off-net steps use, and validated against the request schema of
the operation they are sent to (as the seller would see them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lso.bus.partners.offnet import (
    OVC_ITEM,
    UNI_ITEM,
    PartnerSite,
    access_items,
    order_body,
    poq_body,
    quote_body,
)
from lso.bus.partners.ordering import PartnerShare
from lso.bus.pricing import item_term
from lso.bus.sonata_client import CATALOG, ORDERING, POQ, QUOTE, SITES
from tests.conformance.openapi import MEDIA_TYPE, find_operation, schema_violations

WHERE = PartnerSite(
    partner={
        "id": "carrier-x",
        "enni": [{"element": "pe-ldn-2", "port": "enni-1", "partnerEnniId": "enni-1"}],
    },
    site={"id": "site-par-marais"},
)


def request_violations(root: Path, method: str, path: str, body: Any) -> list[str]:
    operation = find_operation(root, method, path)
    assert operation is not None, f"no Kylie operation serves {method} {path}"
    _, request = operation.document.resolve(f"{operation.pointer}/requestBody")
    media = next(
        m for m in request["content"] if m.replace(" ", "").lower() in {MEDIA_TYPE, "application/json"}
    )
    escaped = media.replace("~", "~0").replace("/", "~1")
    pointer = f"{operation.pointer}/requestBody/content/{escaped}/schema"
    return schema_violations(root, operation.document, pointer, body)


DUE = "2030-01-15T12:00:00Z"
SITE_QUERY = {
    "@type": "GeographicAddress_Query",
    "fieldedAddressRepresentation": [{"city": "Paris", "countryCode": "FR"}],
}
ORDER_EVENTS = "eventType=productOrderStateChangeEvent"


def items(
    relationship_key: str, phy: str = "1000BASE_LX", eir: float = 0, s_vlan_id: int | None = None
) -> list[dict[str, Any]]:
    return access_items(WHERE, 100, eir, relationship_key, phy, s_vlan_id)


def change(action: str) -> PartnerShare:
    """A modify (new rates of the partner's OVC) or a delete (its OVC and operator UNI)."""
    return PartnerShare("", 200, 20, DUE, action, {OVC_ITEM: "p-ovc", UNI_ITEM: "p-uni"})


BODIES = [
    (
        f"{POQ}/productOfferingQualification",
        poq_body(items("qualificationItemRelationship"), "lso"),
    ),
    (f"{QUOTE}/quote", quote_body(items("quoteItemRelationship", eir=10), item_term(24))),
    (
        f"{ORDERING}/productOrder",
        order_body(items("productOrderItemRelationship", "10GBASE_LR"), "o:1", "lso", "q", DUE),
    ),
    (f"{ORDERING}/productOrder", order_body(items("productOrderItemRelationship"), "o:2", "lso", None, DUE)),
    (  # the S-VLAN agreed at the ENNI, stated in the OVC's ENNI End Point Map
        f"{ORDERING}/productOrder",
        order_body(items("productOrderItemRelationship", s_vlan_id=199), "o:5", "lso", None, DUE),
    ),
    (f"{ORDERING}/productOrder", order_body(change("delete").items(WHERE.partner), "o:3", "lso", None, DUE)),
    (f"{ORDERING}/productOrder", order_body(change("modify").items(WHERE.partner), "o:4", "lso", None, DUE)),
    (f"{CATALOG}/hub", {"callback": "http://127.0.0.1:8080"}),
    (f"{ORDERING}/hub", {"callback": "http://127.0.0.1:8080", "query": ORDER_EVENTS}),
    (f"{SITES}/geographicSite", {"place": SITE_QUERY}),
]


@pytest.mark.parametrize(("path", "body"), BODIES)
def test_the_buyer_sends_what_the_kylie_documents_allow(mef_specs: Path, path: str, body: Any) -> None:
    assert request_violations(mef_specs, "POST", path, body) == []
