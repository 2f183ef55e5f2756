"""PRESTO bodies in TAPI / MEF NRP terms: the parts of RPC inputs ICM reads, and its objects as outputs.

Inputs accept every other TAPI property (``extra="allow"``) so a full TAPI request is not refused for
what ICM does not act on.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from lso.mef.store import Document

DEFAULT_BURST_BYTES = 12_176  # a common CBS/EBS: 8 maximum-size frames of 1522 bytes


class _Tapi(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class CapacityValue(_Tapi):
    value: int = Field(ge=0)
    unit: Literal["TB", "TBPS", "GB", "GBPS", "MB", "MBPS", "KB", "KBPS"] = "MBPS"

    def mbps(self) -> float:
        factor = {
            "TB": 1e6,
            "TBPS": 1e6,
            "GB": 1e3,
            "GBPS": 1e3,
            "MB": 1,
            "MBPS": 1,
            "KB": 1e-3,
            "KBPS": 1e-3,
        }
        return self.value * factor[self.unit]


class Capacity(_Tapi):
    total_size: CapacityValue | None = Field(default=None, alias="total-size")


class ConnConstraint(_Tapi):
    requested_capacity: Capacity | None = Field(default=None, alias="requested-capacity")
    service_type: str | None = Field(default=None, alias="service-type")


class BwpFlow(_Tapi):
    """mef.common.BwpFlow: rates in bit/s, bursts in bytes. ICM applies colour-blind, coupling 0."""

    cir: int = Field(ge=0)
    cbs: int = Field(default=DEFAULT_BURST_BYTES, ge=0)
    eir: int = Field(default=0, ge=0)
    ebs: int = Field(default=DEFAULT_BURST_BYTES, ge=0)
    coupling_flag: Literal[False] = Field(default=False, alias="coupling-flag")
    color_mode: Literal["COLOR_BLIND"] = Field(default="COLOR_BLIND", alias="color-mode")

    def adagio(self) -> Document:
        return {"cir": self.cir, "cbs": self.cbs, "eir": self.eir, "ebs": self.ebs}


class VlanId(_Tapi):
    vlan_id: int = Field(alias="vlan-id", ge=1, le=4094)


class VlanIdListAndUntag(_Tapi):
    vlan_id_mapping_type: Literal["LIST", "ALL"] = Field(default="ALL", alias="vlan-id-mapping-type")
    vlan_id: list[VlanId] = Field(default_factory=list, alias="vlan-id")


class EndPointResource(_Tapi):
    ingress_bwp_flow: BwpFlow | None = Field(default=None, alias="ingress-bwp-flow")
    ce_vlan_id_list_and_untag: VlanIdListAndUntag = Field(
        default_factory=VlanIdListAndUntag, alias="ce-vlan-id-list-and-untag"
    )


class SipRef(_Tapi):
    service_interface_point_id: str = Field(alias="service-interface-point-id")


class EndPoint(_Tapi):
    local_id: str | None = Field(default=None, alias="local-id")
    service_interface_point: SipRef = Field(alias="service-interface-point")
    resource: EndPointResource = Field(
        default_factory=EndPointResource, alias="nrp-carrier-eth-connectivity-end-point-resource"
    )


class CreateInput(_Tapi):
    """create-connectivity-service input; ``uuid`` is the lso extension that makes a create idempotent."""

    uuid: str = Field(min_length=1, max_length=128)
    end_point: list[EndPoint] = Field(alias="end-point", min_length=2, max_length=2)
    conn_constraint: ConnConstraint = Field(default_factory=ConnConstraint, alias="conn-constraint")


class ServiceRefInput(_Tapi):
    service_id_or_name: str = Field(alias="service-id-or-name", min_length=1)


class UpdateInput(ServiceRefInput):
    """update-connectivity-service: a new bandwidth profile for every end point (or a new capacity)."""

    end_point: EndPoint | None = Field(default=None, alias="end-point")
    conn_constraint: ConnConstraint = Field(default_factory=ConnConstraint, alias="conn-constraint")


def _names(**values: Any) -> list[Document]:
    return [{"value-name": k.replace("_", "-"), "value": str(v)} for k, v in values.items() if v is not None]


def _mbps(value: float) -> Document:
    return {"total-size": {"value": round(value), "unit": "MBPS"}}


_LIFECYCLE = {"planned": "PLANNED", "installed": "INSTALLED", "removed": "PENDING_REMOVAL"}


def service(doc: Document) -> Document:
    """A stored connectivity service as a TAPI connectivity-service with NRP end point resources.

    ``operational-state`` is DISABLED while the service is not installed or an alarm broke its route
    with no other route to move it to; ``name`` carries the current ``route``.
    """
    operational = doc.get("operationalState", "ENABLED") if doc["state"] == "installed" else "DISABLED"
    return {
        "uuid": doc["id"],
        "name": _names(name=doc.get("name"), vni=doc["vni"], route=",".join(doc["route"])),
        "lifecycle-state": _LIFECYCLE[doc["state"]],
        "administrative-state": "UNLOCKED",
        "operational-state": operational,
        "service-type": "POINT_TO_POINT_CONNECTIVITY",
        "layer-protocol-name": "ETH",
        "direction": "BIDIRECTIONAL",
        "requested-capacity": _mbps(doc["demandMbps"]),
        "cost-characteristic": [{"cost-name": "distance-km", "cost-value": str(doc["distanceKm"])}],
        "end-point": [
            {
                "local-id": ep["localId"],
                "service-interface-point": {"service-interface-point-id": ep["sip"]},
                "layer-protocol-name": "ETH",
                "role": "SYMMETRIC",
                "direction": "BIDIRECTIONAL",
                "operational-state": operational,
                "nrp-carrier-eth-connectivity-end-point-resource": {
                    "ce-vlan-id-list-and-untag": (
                        {"vlan-id-mapping-type": "LIST", "vlan-id": [{"vlan-id": v} for v in ep["ceVlanIds"]]}
                        if ep["ceVlanIds"]
                        else {"vlan-id-mapping-type": "ALL"}
                    ),
                    "ingress-bwp-flow": {**ep["bwp"], "coupling-flag": False, "color-mode": "COLOR_BLIND"},
                },
            }
            for ep in doc["endPoints"]
        ],
    }


def sip(doc: Document) -> Document:
    """A UNI port as a TAPI service-interface-point with the NRP UNI-N augmentation."""
    free = doc["state"] == "AVAILABLE"
    return {
        "uuid": doc["id"],
        "name": _names(
            site_id=doc["siteId"],
            element=doc["element"],
            port=doc["port"],
            s_vlan_id=doc.get("sVlanId"),  # only at an ENNI
            allocation_state=doc["state"],
        ),
        "layer-protocol-name": ["ETH"],
        "administrative-state": "UNLOCKED",
        "operational-state": doc.get("operationalState", "ENABLED"),
        "lifecycle-state": "INSTALLED",
        "total-potential-capacity": _mbps(doc["speedMbps"]),
        "available-capacity": _mbps(doc["speedMbps"] if free else 0),
        "nrp-carrier-eth-uni-n-resource": {"elmi-pe-mode-enabled": False},
    }


def topology(nodes: list[Document], links: list[Document], free: dict[str, float]) -> Document:
    """The one topology ICM controls: elements as nodes, links with capacity and distance as cost."""
    return {
        "uuid": TOPOLOGY_UUID,
        "name": _names(name="lso-provider-network"),
        "layer-protocol-name": ["ETH"],
        "node": [
            {
                "uuid": n["id"],
                "name": _names(element=n["id"], role=n["role"], site_id=n.get("siteId")),
                "layer-protocol-name": ["ETH"],
                "operational-state": n.get("operationalState", "ENABLED"),
                "lifecycle-state": "INSTALLED",
                "administrative-state": "UNLOCKED",
            }
            for n in nodes
        ],
        "link": [
            {
                "uuid": link["id"],
                "name": _names(a=link["a"], z=link["z"]),
                "layer-protocol-name": ["ETH"],
                "direction": "BIDIRECTIONAL",
                "operational-state": link.get("operationalState", "ENABLED"),
                "lifecycle-state": "INSTALLED",
                "administrative-state": "UNLOCKED",
                "total-potential-capacity": _mbps(link["capacityMbps"]),
                "available-capacity": _mbps(free[link["id"]]),
                "cost-characteristic": [{"cost-name": "distance-km", "cost-value": str(link["distanceKm"])}],
            }
            for link in links
        ],
    }


TOPOLOGY_UUID = "3f0c9a52-8a54-4f6e-9d0e-7c1c1b1e0a01"
