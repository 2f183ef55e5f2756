"""SONATA request bodies of a buyer provider: an operator UNI and an Access E-Line OVC to its ENNI."""

from __future__ import annotations

import uuid
from typing import Any

from lso.bus.products import ACCESS_ELINE_OVC, OPERATOR_UNI

SONATA = "/mefApi/sonata"
CATALOG = f"{SONATA}/productCatalog/v4"
POQ = f"{SONATA}/productOfferingQualification/v8"
QUOTE = f"{SONATA}/quoteManagement/v10"
ORDERING = f"{SONATA}/productOrderingManagement/v11"
INVENTORY = f"{SONATA}/productInventory/v8"
SITES = f"{SONATA}/geographicSiteManagement/v8"
ENNI_ID = "enni-carrier-x-1"
BUYER = ("carrier-x", "carrier-x-secret")
CONTACT = {
    "role": "productOrderContact",
    "name": "Carrier X provisioning",
    "emailAddress": "provisioning@carrier-x.example",
    "number": "+33 1 70 00 00 00",
}
DUE = "2030-01-15T12:00:00Z"


def operator_uni(site_id: str) -> dict[str, Any]:
    return {
        "productOffering": {"id": "lso-operator-uni"},
        "place": [{"role": "INSTALL_LOCATION", "place": {"@type": "GeographicSiteRef", "id": site_id}}],
        "productConfiguration": {
            "@type": OPERATOR_UNI,
            "listOfPhysicalLinks": [{"id": "link-1", "physicalLink": "1000BASE_LX"}],
            "maximumServiceFrameSize": 1522,
        },
    }


def access_eline(cir_mbps: float, enni: str = ENNI_ID) -> dict[str, Any]:
    profile = [
        {
            "classOfServiceName": "H",
            "bwpFlow": {
                "cir": {"irValue": cir_mbps, "irUnits": "MBPS"},
                "cbs": {"dataSizeValue": 64, "dataSizeUnits": "KBYTES"},
            },
        }
    ]
    return {
        "productOffering": {"id": "lso-access-eline"},
        "productConfiguration": {
            "@type": ACCESS_ELINE_OVC,
            "listOfClassOfServiceNames": ["H"],
            "uniEp": {"ingressBandwidthProfilePerClassOfServiceName": profile},
            "enniEp": {"ingressBandwidthProfilePerClassOfServiceName": profile},
        },
        "productRelationship": [{"id": enni, "relationshipType": "CONNECTS_TO_ENNI"}],
    }


def access_eline_order(site_id: str, cir_mbps: float = 100, enni: str = ENNI_ID) -> dict[str, Any]:
    """An operator UNI at ``site_id`` and the Access E-Line OVC from it to the buyer's ENNI."""
    return {
        "externalId": f"cx-{uuid.uuid4().hex[:10]}",
        "relatedContactInformation": [CONTACT],
        "productOrderItem": [
            {"id": "uni", "action": "add", "requestedCompletionDate": DUE, "product": operator_uni(site_id)},
            {
                "id": "ovc",
                "action": "add",
                "requestedCompletionDate": DUE,
                "product": access_eline(cir_mbps, enni),
                "productOrderItemRelationship": [{"id": "uni", "relationshipType": "CONNECTS_TO_UNI"}],
            },
        ],
    }


def access_eline_poq(site_id: str, cir_mbps: float = 100) -> dict[str, Any]:
    return {
        "instantSyncQualification": True,
        "provideAlternative": False,
        "relatedContactInformation": [{**CONTACT, "role": "buyerContactInformation"}],
        "productOfferingQualificationItem": [
            {"id": "uni", "action": "add", "product": operator_uni(site_id)},
            {
                "id": "ovc",
                "action": "add",
                "product": access_eline(cir_mbps),
                "qualificationItemRelationship": [{"id": "uni", "relationshipType": "CONNECTS_TO_UNI"}],
            },
        ],
    }


def access_eline_quote(site_id: str, cir_mbps: float = 100) -> dict[str, Any]:
    """An immediate, firm quote for an operator UNI and the Access E-Line OVC to the buyer's ENNI."""
    return {
        "instantSyncQuote": True,
        "buyerRequestedQuoteLevel": "firm",
        "externalId": "cx-quote",
        "quoteItem": [
            {"id": "uni", "action": "add", "product": operator_uni(site_id)},
            {
                "id": "ovc",
                "action": "add",
                "product": access_eline(cir_mbps),
                "quoteItemRelationship": [{"id": "uni", "relationshipType": "CONNECTS_TO_UNI"}],
            },
        ],
    }
