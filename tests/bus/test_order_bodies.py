"""CANTATA product order bodies and a buyer's notification listener, for the ordering tests."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import uvicorn
from fastapi import FastAPI

from lso.bus.products import EPL_EVC, SUBSCRIBER_UNI
from lso.mef.errors import install_error_handlers
from lso.mef.notifications import NotificationApi, listener_router
from lso.mef.store import Document
from tests.harness import free_port, wait_until

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


def uni_item(item_id: str, site_id: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "action": "add",
        "requestedCompletionDate": "2030-01-15T12:00:00Z",
        "product": {
            "productOffering": {"id": "lso-uni"},
            "place": [{"role": "INSTALL_LOCATION", "place": {"@type": "GeographicSiteRef", "id": site_id}}],
            "productConfiguration": {
                "@type": SUBSCRIBER_UNI,
                "listOfPhyLinks": [{"id": "link-1", "physicalLink": "1000BASE_LX"}],
                "maximumServiceFrameSize": 1522,
            },
        },
    }


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
    return {
        "id": item_id,
        "action": "add",
        "requestedCompletionDate": "2030-01-15T12:00:00Z",
        "product": {
            "productOffering": {"id": "lso-epl"},
            "productConfiguration": epl_configuration(cir_mbps),
        },
        "productOrderItemRelationship": [{"id": uni, "relationshipType": "CONNECTS_TO_UNI"} for uni in unis],
    }


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


class Listener:
    """A buyer's CANTATA productOrderingNotification listener on a free loopback port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[Document] = []
        app = FastAPI()
        install_error_handlers(app)
        api = NotificationApi("cantata", "productOrderingNotification", "v6")
        app.include_router(listener_router(api, dict.fromkeys(ORDER_EVENTS, self.received.append)))
        self.server = uvicorn.Server(uvicorn.Config(app, port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.thread.start()
        wait_until(lambda: self.server.started)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join()

    def events_of(self, order_id: str) -> list[Document]:
        return [e for e in self.received if e["event"]["id"] == order_id]
