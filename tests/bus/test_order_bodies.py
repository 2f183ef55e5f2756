"""CANTATA product order bodies and a buyer's notification listener, for the ordering tests."""

from __future__ import annotations

import uuid
from typing import Any

from lso.bus.products import EPL_EVC, SUBSCRIBER_UNI

ORDERING = "/mefApi/cantata/productOrderingManagement/v6"
INVENTORY = "/mefApi/cantata/productInventory/v2"
ORDER_EVENTS = (
    "productOrderStateChangeEvent",
    "productOrderItemStateChangeEvent",
    "productOrderItemExpectedCompletionDateSetEvent",
)
CONTACT = {
    "role": "productOrderContact",
    "name": "Ada Buyer",
    "emailAddress": "ada@example.com",
    "number": "+44 20 7946 0000",
}


def order_item(item_id: str, action: str, product: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A product order item due on one fixed date; ``fields`` adds e.g. its relationships."""
    return {
        "id": item_id,
        "action": action,
        "requestedCompletionDate": "2030-01-15T12:00:00Z",
        "product": product,
        **fields,
    }


def uni_item(item_id: str, site_id: str) -> dict[str, Any]:
    return order_item(
        item_id,
        "add",
        {
            "productOffering": {"id": "lso-uni"},
            "place": [{"role": "INSTALL_LOCATION", "place": {"@type": "GeographicSiteRef", "id": site_id}}],
            "productConfiguration": {
                "@type": SUBSCRIBER_UNI,
                "listOfPhyLinks": [{"id": "link-1", "physicalLink": "1000BASE_LX"}],
                "maximumServiceFrameSize": 1522,
            },
        },
    )


def epl_configuration(cir_mbps: float) -> dict[str, Any]:
    profile = [
        {
            "classOfServiceName": "H",
            "bwpFlow": {
                "cir": {"irValue": cir_mbps, "irUnits": "MBPS"},
                "cbs": {"dataSizeValue": 64, "dataSizeUnits": "KBYTES"},
                "eir": {"irValue": 0, "irUnits": "MBPS"},
                "ebs": {"dataSizeValue": 0, "dataSizeUnits": "KBYTES"},
            },
        }
    ]
    end_point = {"ingressBandwidthProfilePerClassofServiceName": profile}
    return {
        "@type": EPL_EVC,
        "listOfCosNames": ["H"],
        "maximumFrameSize": 1522,
        "evcEndPointA": end_point,
        "evcEndPointZ": end_point,
    }


def evc_item(item_id: str, unis: tuple[str, ...], cir_mbps: float = 100) -> dict[str, Any]:
    return order_item(
        item_id,
        "add",
        {"productOffering": {"id": "lso-epl"}, "productConfiguration": epl_configuration(cir_mbps)},
        productOrderItemRelationship=[{"id": uni, "relationshipType": "CONNECTS_TO_UNI"} for uni in unis],
    )


def epl_order(
    site_a: str = "site-ldn-docklands", site_z: str = "site-ldn-city", cir_mbps: float = 100
) -> dict[str, Any]:
    """An EPL between two sites: two UNI items and the EVC connecting them, with a fresh externalId."""
    items = [
        uni_item("uni-a", site_a),
        uni_item("uni-z", site_z),
        evc_item("evc", ("uni-a", "uni-z"), cir_mbps),
    ]
    return {
        "externalId": f"acme-{uuid.uuid4().hex[:10]}",
        "relatedContactInformation": [CONTACT],
        "productOrderItem": items,
    }


def evc_order_on(uni_products: list[str]) -> dict[str, Any]:
    """An order of only the EVC of :func:`epl_order`, connecting UNI products already in the inventory."""
    body = epl_order()
    evc = body["productOrderItem"][2]
    evc.pop("productOrderItemRelationship")
    evc["product"]["productRelationship"] = [
        {"id": uni, "relationshipType": "CONNECTS_TO_UNI"} for uni in uni_products
    ]
    body["productOrderItem"] = [evc]
    return body


def with_uni_z_at(body: dict[str, Any], place: dict[str, Any]) -> dict[str, Any]:
    """An :func:`epl_order` ``body`` whose UNI Z is at ``place`` (a site ref or an address query)."""
    body["productOrderItem"][1]["product"]["place"][0]["place"] = place
    return body


def change_order(*items: dict[str, Any]) -> dict[str, Any]:
    """A product order that modifies or deletes products in the buyer's inventory (MEF 55.0.1 §10.3)."""
    return {
        "externalId": f"acme-{uuid.uuid4().hex[:10]}",
        "relatedContactInformation": [CONTACT],
        "productOrderItem": list(items),
    }


def modify_item(item_id: str, product_id: str, cir_mbps: float) -> dict[str, Any]:
    """A new bandwidth profile (CIR) for an EPL product: ``product.id`` and the whole new configuration."""
    return order_item(
        item_id, "modify", {"id": product_id, "productConfiguration": epl_configuration(cir_mbps)}
    )


def delete_item(item_id: str, product_id: str) -> dict[str, Any]:
    return order_item(item_id, "delete", {"id": product_id})
