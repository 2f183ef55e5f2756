"""Service order bodies as BUS sends them (docs/legato.md), for the SOF tests."""

from __future__ import annotations

import uuid
from typing import Any

UNI = "urn:mef:lso:spec:service:carrier-ethernet-subscriber-uni:v1.0.0:all"
EVC = "urn:mef:lso:spec:service:carrier-ethernet-evc:v1.0.0:all"
ORDERING = "/mefApi/legato/serviceOrderingManagement/v6"
INVENTORY = "/mefApi/legato/serviceInventory/v7"
TESTING = "/mefApi/legato/serviceFunctionTesting/v3"


def uni_item(item_id: str, site_id: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "action": "add",
        "service": {
            "place": [{"role": "INSTALL_LOCATION", "place": {"@type": "GeographicSiteRef", "id": site_id}}],
            "serviceConfiguration": {
                "@type": UNI,
                "maximumFrameSize": 1522,
                "listOfPhyLinks": [{"id": "link-1", "physicalLink": "1000BASE_LX"}],
            },
        },
    }


def evc_item(item_id: str, cir_mbps: float, unis: tuple[str, ...] = ("uni-a", "uni-z")) -> dict[str, Any]:
    return {
        "id": item_id,
        "action": "add",
        "service": {
            "serviceConfiguration": {
                "@type": EVC,
                "evcType": "POINT_TO_POINT",
                "maximumFrameSize": 1522,
                "listOfCosNames": ["H"],
                "ingressBwp": {
                    "cir": {"irValue": cir_mbps, "irUnits": "MBPS"},
                    "cbs": {"dataSizeValue": 64, "dataSizeUnits": "KBYTES"},
                    "eir": {"irValue": 0, "irUnits": "MBPS"},
                    "ebs": {"dataSizeValue": 0, "dataSizeUnits": "KBYTES"},
                },
            }
        },
        "serviceOrderItemRelationship": [
            {"relationshipType": "CONNECTS_TO_UNI", "orderItem": {"itemId": uni}} for uni in unis
        ],
    }


def epl_order(
    site_a: str = "site-ldn-docklands", site_z: str = "site-man-central", cir_mbps: float = 100
) -> dict[str, Any]:
    """An EPL between two sites, with a fresh externalId (the product order id BUS would send)."""
    return {
        "externalId": f"PO-{uuid.uuid4().hex[:10]}",
        "description": "EPL test order",
        "requestedStartDate": "2026-01-20T09:00:00.000Z",
        "requestedCompletionDate": "2026-02-03T17:00:00.000Z",
        "serviceOrderItem": [
            uni_item("uni-a", site_a),
            uni_item("uni-z", site_z),
            evc_item("evc", cir_mbps),
        ],
    }


def change_order(*items: dict[str, Any]) -> dict[str, Any]:
    """A service order that modifies or deletes services already in inventory."""
    return {
        "externalId": f"PO-{uuid.uuid4().hex[:10]}",
        "requestedStartDate": "2026-01-20T09:00:00.000Z",
        "requestedCompletionDate": "2026-02-03T17:00:00.000Z",
        "serviceOrderItem": list(items),
    }


def delete_item(item_id: str, service_id: str) -> dict[str, Any]:
    return {"id": item_id, "action": "delete", "service": {"id": service_id}}


def modify_item(item_id: str, service_id: str, cir_mbps: float, eir_mbps: float = 0) -> dict[str, Any]:
    configuration = evc_item(item_id, cir_mbps)["service"]["serviceConfiguration"]
    configuration["ingressBwp"]["eir"]["irValue"] = eir_mbps
    return {
        "id": item_id,
        "action": "modify",
        "service": {"id": service_id, "serviceConfiguration": configuration},
    }
