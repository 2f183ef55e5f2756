"""Product to service mapping (MEF 55.0.1 §10.2 step 5): a product order as the LEGATO service order SOF
fulfils (body per docs/legato.md, MEF 101 service configurations).

Each product order item becomes the service order item of the same id. A modify or delete item names the
service that realises the product (``service.id``); a modify carries the EVC's new configuration. For an
add, a subscriber UNI product becomes a
``carrier-ethernet-subscriber-uni`` service installed at its site; an EPL/EVPL product becomes a
``carrier-ethernet-evc`` service whose ingress bandwidth profile is the product's committed and excess
rates, related to its UNIs as the product is. Over SONATA, an operator UNI becomes the same UNI service
(at the service layer a UNI is a UNI), and an Access E-Line OVC an EVC service whose ingress bandwidth
profile is the one at its UNI End Point, related ``CONNECTS_TO_UNI`` to its UNI and ``CONNECTS_TO_ENNI``
to the ENNI (the ENNI product's id is the network's name for it), where SOF allocates its S-VLAN: the
one the buyer stated in ``enniEp.ovcEndPointMap`` (or, for our off-net EPL, the one BUS agreed with the
partner), named on the EVC as MEF 101's OVC End Point Map form E (``ovcEndPointMap``).
"""

from __future__ import annotations

from typing import Any

from lso.bus.products import (
    AccessElineOvcConfiguration,
    EvcConfiguration,
    OperatorUniConfiguration,
    SubscriberUniConfiguration,
    validate_configuration,
)
from lso.bus.products.common import BandwidthProfilePerClassOfServiceName
from lso.mef.store import Document

SERVICE_UNI = "urn:mef:lso:spec:service:carrier-ethernet-subscriber-uni:v1.0.0:all"
SERVICE_EVC = "urn:mef:lso:spec:service:carrier-ethernet-evc:v1.0.0:all"
DEFAULT_CBS_KBYTES = 64


def service_order(
    order: Document,
    plan: Document,
    services: dict[str, str],
    customer: str | None = None,
    vlans: dict[str, int] | None = None,
) -> dict[str, Any]:
    """The LEGATO ``ServiceOrder_Create`` for ``order``; ``services`` maps inventory UNI products to the
    services that realise them. ``customer`` (the ordering party) is named as the contact of role
    ``customer`` whose ``organization`` is the party id: how SOF knows whose services it serves on ALLEGRO
    (docs/assurance.md). ``vlans``: EVC item id → the S-VLAN agreed for its end at an ENNI."""
    vlans = vlans or {}
    items = {item["id"]: item for item in order["productOrderItem"]}
    completion = max(item["requestedCompletionDate"] for item in order["productOrderItem"])
    body: dict[str, Any] = {
        "externalId": order["id"],
        "description": f"Fulfilment of product order {order['id']}",
        "requestedStartDate": order["orderDate"],
        "requestedCompletionDate": completion,
        "serviceOrderItem": [
            _service_item(order["id"], items[step["id"]], step, services, vlans.get(step["id"]))
            for step in plan["item"]
        ],
    }
    contacts = order.get("relatedContactInformation") or []
    if customer and contacts:
        body["relatedContactInformation"] = [{**contacts[0], "role": "customer", "organization": customer}]
    return body


def _service_item(
    order_id: str, item: Document, step: Document, services: dict[str, str], s_vlan_id: int | None
) -> dict[str, Any]:
    action = step.get("action", "add")
    if action == "delete":
        return {"id": item["id"], "action": "delete", "service": {"id": services[step["productId"]]}}
    configuration = validate_configuration(item["product"]["productConfiguration"], "")
    if action == "modify":
        assert isinstance(configuration, EvcConfiguration | AccessElineOvcConfiguration)
        # No identifier: SOF keeps the one the service was given when it was added.
        changed = {"id": services[step["productId"]], "serviceConfiguration": _evc(configuration, None)}
        return {"id": item["id"], "action": "modify", "service": changed}
    name = f"{order_id[:8]}-{item['id']}"[:40]
    if isinstance(configuration, SubscriberUniConfiguration | OperatorUniConfiguration):
        return {
            "id": item["id"],
            "action": "add",
            "service": {
                "place": [
                    {
                        "role": "INSTALL_LOCATION",
                        "place": {"@type": "GeographicSiteRef", "id": step["siteId"]},
                    }
                ],
                "serviceConfiguration": _uni(configuration, f"UNI-{name}"),
            },
        }
    assert isinstance(configuration, EvcConfiguration | AccessElineOvcConfiguration)
    if isinstance(configuration, AccessElineOvcConfiguration):
        s_vlan_id = configuration.s_vlan_id()  # the buyer's, checked when its order was (order/svlan.py)
    service: dict[str, Any] = {"serviceConfiguration": _evc(configuration, f"EVC-{name}", s_vlan_id)}
    related = [
        {"relationshipType": "CONNECTS_TO_UNI", "service": {"id": services[uni["productId"]]}}
        for uni in step["uni"]
        if uni.get("productId")
    ] + [{"relationshipType": "CONNECTS_TO_ENNI", "service": {"id": enni}} for enni in step.get("enni", [])]
    if related:
        service["serviceRelationship"] = related
    body: dict[str, Any] = {"id": item["id"], "action": "add", "service": service}
    in_order = [
        {"relationshipType": "CONNECTS_TO_UNI", "orderItem": {"itemId": uni["itemId"]}}
        for uni in step["uni"]
        if uni.get("itemId")
    ]
    if in_order:
        body["serviceOrderItemRelationship"] = in_order
    return body


def _uni(
    configuration: SubscriberUniConfiguration | OperatorUniConfiguration, identifier: str
) -> dict[str, Any]:
    uni: dict[str, Any] = {
        "@type": SERVICE_UNI,
        "identifier": identifier,
        "maximumFrameSize": configuration.maximumServiceFrameSize or 1522,
    }
    given = (
        configuration.listOfPhyLinks
        if isinstance(configuration, SubscriberUniConfiguration)
        else configuration.listOfPhysicalLinks
    )
    links = [link for link in given or [] if link.physicalLink]
    if links:
        uni["listOfPhyLinks"] = [
            {"id": link.id or f"link-{n}", "physicalLink": link.physicalLink}
            for n, link in enumerate(links, 1)
        ]
    return uni


def _evc(
    configuration: EvcConfiguration | AccessElineOvcConfiguration,
    identifier: str | None,
    s_vlan_id: int | None = None,
) -> dict[str, Any]:
    flows = [profile.bwpFlow for profile in _ingress_profiles(configuration)]
    first = flows[0] if flows else None
    cbs = first.cbs if first and first.cbs else None
    ebs = first.ebs if first and first.ebs else None
    evc: dict[str, Any] = {
        "@type": SERVICE_EVC,
        "identifier": identifier,
        "evcType": "POINT_TO_POINT",
        "maximumFrameSize": configuration.maximumFrameSize or 1522,
        "ingressBwp": {
            "cir": {"irValue": configuration.ingress_cir_mbps(), "irUnits": "MBPS"},
            "cbs": cbs.model_dump(exclude_none=True)
            if cbs
            else {"dataSizeValue": DEFAULT_CBS_KBYTES, "dataSizeUnits": "KBYTES"},
            "eir": {"irValue": configuration.ingress_eir_mbps(), "irUnits": "MBPS"},
            "ebs": ebs.model_dump(exclude_none=True)
            if ebs
            else {"dataSizeValue": 0, "dataSizeUnits": "KBYTES"},
        },
    }
    cos_names = (
        configuration.listOfCosNames
        if isinstance(configuration, EvcConfiguration)
        else configuration.listOfClassOfServiceNames
    )
    if cos_names:
        evc["listOfCosNames"] = cos_names
    if configuration.carrierEthernetSls:  # MEF 101 names the product's SLS this way on the service
        sls = configuration.carrierEthernetSls[0].model_dump(mode="json", exclude_none=True)
        evc["carrierEthernetServiceLevelSpecification"] = sls
    if s_vlan_id is not None:
        evc["ovcEndPointMap"] = {
            "ovcEndPointMapForm": "FORM_E",
            "ovcEndPointMapFormE": [{"sVlanIdList": {"type": "LIST", "vlanIdList": [s_vlan_id]}}],
        }
    if identifier is None:
        evc.pop("identifier")
    return evc


def _ingress_profiles(
    configuration: EvcConfiguration | AccessElineOvcConfiguration,
) -> list[BandwidthProfilePerClassOfServiceName]:
    """The ingress bandwidth profile the network polices: at End Point A of an EVC, at the UNI of an OVC."""
    if isinstance(configuration, EvcConfiguration):
        return configuration.evcEndPointA.ingressBandwidthProfilePerClassofServiceName or []
    return configuration.uniEp.ingressBandwidthProfilePerClassOfServiceName or []
