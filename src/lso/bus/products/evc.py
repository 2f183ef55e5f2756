"""EPL and EVPL EVC product configurations (MEF 6.3 services, MEF 10.4 attributes; Grace schemas
``epl/ethernetPrivateLineEvc.yaml`` and ``evpl/ethernetVirtualPrivateLineEvc.yaml``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from lso.bus.products.common import (
    AvailableMegLevel,
    BandwidthProfilePerClassOfServiceName,
    CarrierEthernetSls,
    ColorMap,
    EnabledDisabled,
    Envelope,
    FrameDisposition,
    IngressClassOfServiceMap,
    MefModel,
    MegLevel,
    SourceMacAddressLimit,
    identifier,
)

EPL_EVC = "urn:mef:lso:spec:cantata-sonata:epl-evc:v1.0.0:all"
EVPL_EVC = "urn:mef:lso:spec:cantata-sonata:evpl-evc:v1.0.0:all"


class EvcEgressMapEntry(MefModel):
    cosName: str | None = None
    pcpGreen: str | None = None
    pcpYellow: str | None = None
    deiGreen: str | None = None
    deiYellow: str | None = None


class EvcEgressMap(MefModel):
    evcEgressMapEntries: list[EvcEgressMapEntry] | None = None


class EvcEndPoint(MefModel):
    """The EVC End Point attributes every E-Line service has (CarrierEthernetEvcEpCommon)."""

    identifier: str | None = identifier()
    evcEndPointEnvelopes: list[Envelope] | None = None
    ingressClassOfServiceMap: IngressClassOfServiceMap | None = None
    colorMap: ColorMap | None = None
    egressMap: list[EvcEgressMap] | None = Field(default=None, max_length=1)
    ingressBandwidthProfilePerClassofServiceName: list[BandwidthProfilePerClassOfServiceName] | None = None
    subscriberMegMip: MegLevel | None = None

    def ingress_cir_mbps(self) -> float:
        return sum(b.bwpFlow.cir_mbps() for b in self.ingressBandwidthProfilePerClassofServiceName or [])

    def ingress_eir_mbps(self) -> float:
        return sum(b.bwpFlow.eir_mbps() for b in self.ingressBandwidthProfilePerClassofServiceName or [])

    def cos_names_used(self) -> set[str]:
        names = {b.classOfServiceName for b in self.ingressBandwidthProfilePerClassofServiceName or []}
        return names | (self.ingressClassOfServiceMap.cos_names() if self.ingressClassOfServiceMap else set())


class EvcEndPointMap(MefModel):
    """Which C-VLAN IDs map to a virtual private EVC End Point (MEF 10.4 §10.4)."""

    vlanType: Literal["LIST", "UT/PT"]
    vlanId: list[int] | None = Field(default=None, min_length=1, max_length=4094)

    @model_validator(mode="after")
    def _list_names_vlans(self) -> EvcEndPointMap:
        if self.vlanType == "LIST" and not self.vlanId:
            raise ValueError("an EVC End Point Map of type LIST names at least one vlanId")
        if any(not 1 <= vlan <= 4094 for vlan in self.vlanId or []):
            raise ValueError("every vlanId is in 1..4094")
        return self


class EvplEvcEndPoint(EvcEndPoint):
    evcEndPointMap: EvcEndPointMap | None = None
    egressBandwidthProfilePerClassofServiceName: list[BandwidthProfilePerClassOfServiceName] | None = Field(
        default=None, max_length=1
    )
    sourceAddressMacLimit: list[SourceMacAddressLimit] | None = Field(default=None, max_length=1)


class EvcConfiguration(MefModel):
    """Attributes common to EPL and EVPL, with the accessors ordering and pricing need."""

    type: str = Field(alias="@type")
    listOfCosNames: list[str] | None = Field(default=None, min_length=1)
    carrierEthernetSls: list[CarrierEthernetSls] | None = Field(default=None, max_length=1)
    maximumFrameSize: int | None = Field(default=None, ge=1522)
    availableMegLevel: AvailableMegLevel | None = None
    evcEndPointA: EvcEndPoint
    evcEndPointZ: EvcEndPoint

    @model_validator(mode="after")
    def _cos_names_are_listed(self) -> EvcConfiguration:
        # MEF 10.4 §10.5/§10.11: a CoS Name used at an End Point is one of the EVC's list of CoS Names.
        if self.listOfCosNames is None:
            return self
        for name, end_point in (("evcEndPointA", self.evcEndPointA), ("evcEndPointZ", self.evcEndPointZ)):
            unknown = end_point.cos_names_used() - set(self.listOfCosNames) - {"Discard", "DISCARD"}
            if unknown:
                raise ValueError(
                    f"{name} uses Class of Service Names not in listOfCosNames: {sorted(unknown)}"
                )
        return self

    def end_points(self) -> tuple[EvcEndPoint, EvcEndPoint]:
        return self.evcEndPointA, self.evcEndPointZ

    def ingress_cir_mbps(self) -> float:
        """The committed rate the network must carry: the larger ingress CIR of the two End Points."""
        return max(end_point.ingress_cir_mbps() for end_point in self.end_points())

    def ingress_eir_mbps(self) -> float:
        return max(end_point.ingress_eir_mbps() for end_point in self.end_points())


class EplEvcConfiguration(EvcConfiguration):
    """Ethernet Private Line: port-based, all-to-one bundling, so no End Point Map or frame disposition."""

    type: Literal["urn:mef:lso:spec:cantata-sonata:epl-evc:v1.0.0:all"] = Field(alias="@type")


class EvplEvcConfiguration(EvcConfiguration):
    """Ethernet Virtual Private Line: service multiplexed at the UNI by C-VLAN ID."""

    type: Literal["urn:mef:lso:spec:cantata-sonata:evpl-evc:v1.0.0:all"] = Field(alias="@type")
    cTagPcpPreservation: EnabledDisabled | None = None
    cTagDeiPreservation: EnabledDisabled | None = None
    frameDisposition: FrameDisposition | None = None
    evcEndPointA: EvplEvcEndPoint
    evcEndPointZ: EvplEvcEndPoint
