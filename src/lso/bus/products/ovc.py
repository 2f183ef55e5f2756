"""The SONATA products a domain sells to other providers (MEF 51.1 Operator Ethernet, MEF 26.2): the
Access E-Line OVC (Grace ``accessEline/accessElineOvc.yaml``) and the Carrier Ethernet Operator UNI
(``carrierEthernetOperatorUni/carrierEthernetOperatorUni.yaml``), and the ENNI a buyer's OVCs reach our
network through (``carrierEthernetEnniSpSo/inventory``: an inventory-only product).

An Access E-Line OVC has one End Point at an operator UNI (``uniEp``) and one at an ENNI (``enniEp``);
the ENNI End Point's map names the S-VLAN ID the buyer will see the OVC on (``FORM_E``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from lso.bus.products.common import (
    AvailableMegLevel,
    BandwidthProfilePerClassOfServiceName,
    BwpFlow,
    CarrierEthernetSls,
    ColorMap,
    EnabledDisabled,
    Envelope,
    FrameDisposition,
    MefModel,
    MegLevel,
    SourceMacAddressLimit,
    identifier,
)
from lso.bus.products.uni import UniPhysicalLink

ACCESS_ELINE_OVC = "urn:mef:lso:spec:sonata:access-eline-ovc:v5.0.0:all"
OPERATOR_UNI = "urn:mef:lso:spec:sonata:carrier-ethernet-operator-uni:v5.0.0:all"
ENNI = "urn:mef:lso:spec:sonata:carrier-ethernet-enni-sp-so:v5.0.0:inventory"


class OvcEndPointMap(MefModel):
    """EndPointMapFormU (the CE-VLAN IDs at a UNI) or EndPointMapFormE (the S-VLAN IDs at an ENNI)."""

    mapType: Literal["FORM_U", "FORM_E"] | None = None
    ovcEndPointMapFormU: list[int] | None = Field(default=None, min_length=1, max_length=4094)
    ovcEndPointMapFormE: list[int] | None = Field(default=None, min_length=1, max_length=4094)

    @model_validator(mode="after")
    def _vlans_in_range(self) -> OvcEndPointMap:
        if any(
            not 1 <= vlan <= 4094
            for vlan in (self.ovcEndPointMapFormU or []) + (self.ovcEndPointMapFormE or [])
        ):
            raise ValueError("every VLAN ID of an OVC End Point Map is in 1..4094")
        return self


class AccessElineOvcEndPoint(MefModel):
    """AccessElineOvcEpCommon: the attributes of either End Point."""

    identifier: str | None = identifier()
    ovcEndPointMap: OvcEndPointMap | None = None
    colorMap: ColorMap | None = None
    ingressBandwidthProfilePerClassOfServiceName: list[BandwidthProfilePerClassOfServiceName] | None = Field(
        default=None, min_length=1
    )
    egressBandwidthProfilePerEndPoint: list[BwpFlow] | None = Field(default=None, max_length=1)
    sourceMacAddressLimit: list[SourceMacAddressLimit] | None = Field(default=None, max_length=1)
    maintenanceIntermediatePoint: MegLevel | None = None
    ovcEndPointEnvelopes: list[Envelope] | None = None

    def ingress_cir_mbps(self) -> float:
        return sum(b.bwpFlow.cir_mbps() for b in self.ingressBandwidthProfilePerClassOfServiceName or [])

    def ingress_eir_mbps(self) -> float:
        return sum(b.bwpFlow.eir_mbps() for b in self.ingressBandwidthProfilePerClassOfServiceName or [])


class AccessElineOvcConfiguration(MefModel):
    type: Literal["urn:mef:lso:spec:sonata:access-eline-ovc:v5.0.0:all"] = Field(alias="@type")
    maximumFrameSize: int | None = Field(default=None, ge=1526)
    ceVlanIdPreservation: Literal["PRESERVE", "STRIP", "RETAIN"] | None = None
    cTagPcpPreservation: EnabledDisabled | None = None
    cTagDeiPreservation: EnabledDisabled | None = None
    listOfClassOfServiceNames: list[str] | None = Field(default=None, min_length=1)
    carrierEthernetSls: list[CarrierEthernetSls] | None = Field(default=None, max_length=1)
    frameDisposition: FrameDisposition | None = None
    availableMegLevel: AvailableMegLevel | None = None
    uniEp: AccessElineOvcEndPoint
    enniEp: AccessElineOvcEndPoint

    def ingress_cir_mbps(self) -> float:
        """The committed rate the network carries: the larger ingress CIR of the two End Points."""
        return max(self.uniEp.ingress_cir_mbps(), self.enniEp.ingress_cir_mbps())

    def ingress_eir_mbps(self) -> float:
        return max(self.uniEp.ingress_eir_mbps(), self.enniEp.ingress_eir_mbps())

    def s_vlan_id(self) -> int | None:
        """The S-VLAN ID the buyer asked for at the ENNI, if it named exactly one."""
        mapped = self.enniEp.ovcEndPointMap.ovcEndPointMapFormE if self.enniEp.ovcEndPointMap else None
        return mapped[0] if mapped and len(mapped) == 1 else None


class OperatorUniConfiguration(MefModel):
    type: Literal["urn:mef:lso:spec:sonata:carrier-ethernet-operator-uni:v5.0.0:all"] = Field(alias="@type")
    listOfPhysicalLinks: list[UniPhysicalLink] | None = Field(default=None, min_length=1)
    linkAggregation: Literal["NONE", "2_LINK_ACTIVE_STANDBY", "ALL_ACTIVE", "OTHER"] | None = None
    maximumServiceFrameSize: int | None = Field(default=None, ge=1522)
    defaultCeVlanId: int | None = Field(default=None, ge=1, le=4094)
    maximumNumberOfEndPoints: int | None = Field(default=None, ge=1, le=4094)
    maximumNumberOfCeVlanIdsPerEndPoint: int | None = Field(default=None, ge=1, le=4094)
    ingressBandwidthProfile: list[BwpFlow] | None = Field(default=None, max_length=1)
    egressBandwidthProfile: list[BwpFlow] | None = Field(default=None, max_length=1)
    linkOam: EnabledDisabled | None = None
    meg: EnabledDisabled | None = None
    lagLinkMeg: EnabledDisabled | None = None
    tokenShare: EnabledDisabled | None = None
    envelopes: list[Envelope] | None = None
    l2cpAddressSet: Literal["CTA", "CTB", "CTB2"] | None = None

    def port_speed_mbps(self) -> int | None:
        """The speed of the UNI's (first) physical link, which decides the port the network assigns."""
        speeds = [link.speed_mbps() for link in self.listOfPhysicalLinks or []]
        return next((speed for speed in speeds if speed), None)
