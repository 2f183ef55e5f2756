"""The Carrier Ethernet Subscriber UNI product configuration (MEF 10.4 §9; Grace schema
``carrierEthernetSubscriberUni/carrierEthernetSubscriberUni.yaml``)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from lso.bus.products.common import EnabledDisabled, Envelope, MefModel, identifier

SUBSCRIBER_UNI = "urn:mef:lso:spec:cantata-sonata:carrier-ethernet-subscriber-uni:v1.0.0:all"

# The IEEE 802.3 PHY types the schema's physicalLink enum allows.
PHYSICAL_LINKS = frozenset(
    (
        "1BASE5",
        "2BASE_TL",
        "10BASE2",
        "10BASE5",
        "10BASE_F",
        "10BASE_FB",
        "10BASE_FL",
        "10BASE_FP",
        "10BASE_T",
        "10BASE_T1L",
        "10BASE_T1S",
        "10BASE_TE",
        "10BROAD36",
        "10PASS_TS",
        "100BASE_BX10",
        "100BASE_FX",
        "100BASE_LX10",
        "100BASE_T",
        "100BASE_T1",
        "100BASE_T2",
        "100BASE_T4",
        "100BASE_TX",
        "100BASE_X",
        "1000BASE_BX10",
        "1000BASE_CX",
        "1000BASE_KX",
        "1000BASE_LX",
        "1000BASE_LX10",
        "1000BASE_PX10",
        "1000BASE_PX20",
        "1000BASE_RHA",
        "1000BASE_RHB",
        "1000BASE_RHC",
        "1000BASE_SX",
        "1000BASE_T",
        "1000BASE_T1",
        "1000BASE_X",
        "2_5GBASE_KX",
        "2_5GBASE_T",
        "2_5GBASE_T1",
        "5GBASE_KR",
        "5GBASE_T",
        "5GBASE_T1",
        "10GBASE_CX4",
        "10GBASE_E",
        "10GBASE_ER",
        "10GBASE_EW",
        "10GBASE_KR",
        "10GBASE_KX4",
        "10GBASE_L",
        "10GBASE_LR",
        "10GBASE_LRM",
        "10GBASE_LW",
        "10GBASE_LX4",
        "10GBASE_R",
        "10GBASE_S",
        "10GBASE_SR",
        "10GBASE_SW",
        "10GBASE_T",
        "10GBASE_T1",
        "10GBASE_W",
        "10GBASE_X",
        "25GBASE_CR",
        "25GBASE_CR_S",
        "25GBASE_ER",
        "25GBASE_KR",
        "25GBASE_KR_S",
        "25GBASE_LR",
        "25GBASE_SR",
        "25GBASE_T",
        "40GBASE_CR4",
        "40GBASE_ER4",
        "40GBASE_FR",
        "40GBASE_KR4",
        "40GBASE_LR4",
        "40GBASE_R",
        "40GBASE_SR4",
        "40GBASE_T",
        "50GBASE_CR",
        "50GBASE_ER",
        "50GBASE_FR",
        "50GBASE_KR",
        "50GBASE_LR",
        "50GBASE_SR",
        "100GBASE_CR10",
        "100GBASE_CR2",
        "100GBASE_CR4",
        "100GBASE_DR",
        "100GBASE_ER4",
        "100GBASE_KP4",
        "100GBASE_KR2",
        "100GBASE_KR4",
        "100GBASE_LR4",
        "100GBASE_R",
        "100GBASE_SR10",
        "100GBASE_SR2",
        "100GBASE_SR4",
        "200GBASE_CR4",
        "200GBASE_DR4",
        "200GBASE_ER4",
        "200GBASE_FR4",
        "200GBASE_KR4",
        "200GBASE_LR4",
        "200GBASE_SR4",
        "400GBASE_DR4",
        "400GBASE_ER8",
        "400GBASE_FR8",
        "400GBASE_LR8",
        "400GBASE_SR16",
        "400GBASE_SR4_2",
        "400GBASE_SR8",
        "OTHER",
    )
)

# IEEE 802.3 PHY names in the schema's enum start with the speed: "1000BASE_LX", "10GBASE_LR", "2_5GBASE_T".
_PHY_SPEED = re.compile(r"^(\d+(?:_\d+)?)(G?)BASE")


class UniPhysicalLink(MefModel):
    """One physical link of the UNI (CarrierEthernetPhysicalLink + UniSpecificAttributes)."""

    id: str | None = identifier()
    physicalLink: str | None = None
    synchronousEthernet: EnabledDisabled | None = None
    precisionTiming: EnabledDisabled | None = None
    uniConnectorType: Literal["SC", "LC", "RJ45", "OTHER"] | None = None
    uniConnectorGender: Literal["SOCKET", "PLUG"] | None = None
    autoNegotiation: EnabledDisabled | None = None

    @field_validator("physicalLink")
    @classmethod
    def _known_phy(cls, value: str | None) -> str | None:
        if value is not None and value not in PHYSICAL_LINKS:
            raise ValueError(f"{value} is not an IEEE 802.3 PHY type of the schema's physicalLink enum")
        return value

    def speed_mbps(self) -> int | None:
        match = _PHY_SPEED.match(self.physicalLink or "")
        if match is None:
            return None
        number = float(match.group(1).replace("_", "."))
        return int(number * 1000) if match.group(2) else int(number)


class VirtualFrameMap(MefModel):
    vfMap: str | None = None


class SubscriberUniConfiguration(MefModel):
    type: Literal["urn:mef:lso:spec:cantata-sonata:carrier-ethernet-subscriber-uni:v1.0.0:all"] = Field(
        alias="@type"
    )
    instantiation: Literal["PHYSICAL", "VIRTUAL"] | None = None
    virtualFrameMap: list[VirtualFrameMap] | None = Field(default=None, max_length=1)
    listOfPhyLinks: list[UniPhysicalLink] | None = None
    linkAggregation: Literal["NONE", "2_LINK_ACTIVE_STANDBY", "ALL_ACTIVE", "OTHER"] | None = None
    maximumServiceFrameSize: int | None = Field(default=None, ge=1522)
    maximumNumberOfEndPoints: int | None = Field(default=None, ge=1, le=4094)
    maximumNumberOfCtagVlanIdsPerEndPoint: int | None = Field(default=None, ge=1, le=4094)
    tokenShare: EnabledDisabled | None = None
    envelopes: list[Envelope] | None = None
    linkOam: EnabledDisabled | None = None
    meg: EnabledDisabled | None = None
    lagLinkMeg: EnabledDisabled | None = None
    l2cpAddressSet: Literal["CTA", "CTB", "CTB2"] | None = None

    def port_speed_mbps(self) -> int | None:
        """The speed of the UNI's (first) physical link, which decides the port the network assigns."""
        speeds = [link.speed_mbps() for link in self.listOfPhyLinks or []]
        return next((speed for speed in speeds if speed), None)
