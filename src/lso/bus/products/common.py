"""The Carrier Ethernet building blocks that EVC and UNI product configurations share (MEF 10.4).

Property names are exactly those of the MEF Grace product schemas (``carrierEthernetCommon/*.yaml``), so a
configuration a buyer writes from those schemas validates here unchanged. The schemas declare no
``additionalProperties: false``, so every model accepts properties it does not know, as the schema does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

EnabledDisabled = Literal["ENABLED", "DISABLED"]
FrameColor = Literal["GREEN", "YELLOW"]
PcpValue = Literal["0", "1", "2", "3", "4", "5", "6", "7"]
MegLevel = Literal["0", "1", "2", "3", "4", "5", "6", "7", "NONE"]
AvailableMegLevel = Literal["0", "1", "2", "3", "4", "5", "6"]
InformationRateUnits = Literal["BPS", "KBPS", "MBPS", "GBPS", "TBPS", "PBPS", "EBPS", "ZBPS", "YBPS"]
DataSizeUnits = Literal[
    "BYTES", "KBYTES", "MBYTES", "GBYTES", "TBYTES", "PBYTES", "EBYTES", "ZBYTES", "YBYTES"
]
TimeDurationUnits = Literal["NS", "US", "MS", "SEC", "MIN", "HOUR", "DAY", "WEEK", "MONTH", "YEAR"]

# Decimal multiples of a bit per second, expressed in Mbit/s (MEF information rates are SI units).
_MBPS_PER_UNIT: dict[str, float] = {
    unit: 10.0 ** (3 * power - 6)
    for power, unit in enumerate(("BPS", "KBPS", "MBPS", "GBPS", "TBPS", "PBPS", "EBPS", "ZBPS", "YBPS"))
}


def identifier() -> Any:
    """An optional MEF identifier string: 1-45 printable ASCII characters."""
    return Field(default=None, min_length=1, max_length=45, pattern=r"[\x20-\x7F]+")


def percentage() -> Any:
    return Field(default=None, ge=0, le=100)


class MefModel(BaseModel):
    """A part of a MEF product schema: open to properties the schema does not list, like the schema."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


M = TypeVar("M", bound=MefModel)


class InformationRate(MefModel):
    irValue: float = Field(ge=0)
    irUnits: InformationRateUnits

    def mbps(self) -> float:
        return self.irValue * _MBPS_PER_UNIT[self.irUnits]


class DataSize(MefModel):
    dataSizeValue: int
    dataSizeUnits: DataSizeUnits


class TimeDuration(MefModel):
    timeDurationValue: int = Field(ge=0)
    timeDurationUnits: TimeDurationUnits


class BwpFlow(MefModel):
    """MEF 10.4 §12.1 bandwidth profile flow: committed and excess rates and burst sizes."""

    cir: InformationRate | None = None
    cirMax: InformationRate | None = None
    cbs: DataSize | None = None
    eir: InformationRate | None = None
    eirMax: InformationRate | None = None
    ebs: DataSize | None = None
    couplingFlag: bool | None = None
    colorMode: Literal["COLOR_BLIND", "COLOR_AWARE"] | None = None
    envelopeId: str | None = identifier()
    envelopeRank: int | None = Field(default=None, ge=1)
    tokenRequestOffset: int | None = None

    @model_validator(mode="after")
    def _max_rates_bound_rates(self) -> BwpFlow:
        # MEF 10.4 §12.1.2: CIR ≤ CIRmax and EIR ≤ EIRmax; a profile violating it cannot be configured.
        for rate, ceiling, name in ((self.cir, self.cirMax, "cir"), (self.eir, self.eirMax, "eir")):
            if rate is not None and ceiling is not None and rate.mbps() > ceiling.mbps():
                raise ValueError(f"{name} must not exceed {name}Max")
        return self

    def cir_mbps(self) -> float:
        return self.cir.mbps() if self.cir else 0.0

    def eir_mbps(self) -> float:
        return self.eir.mbps() if self.eir else 0.0


class Envelope(MefModel):
    envelopeID: str | None = identifier()
    couplingFlagForIndexZero: bool | None = None


class BandwidthProfilePerClassOfServiceName(MefModel):
    classOfServiceName: str
    bwpFlow: BwpFlow


class L2cpProtocol(MefModel):
    l2cpProtocolType: Literal["ETHERTYPE", "LLC"] | None = None
    llcAddressOrEtherType: int | None = Field(default=None, ge=0)
    subType: int | None = Field(default=None, ge=0)


class CosL2cp(MefModel):
    l2cpIdentifier: L2cpProtocol | None = None
    l2cpCosName: str | None = None


class CosUniPcpMapEntry(MefModel):
    pcpVal: Literal["0", "1", "2", "3", "4", "5", "6", "7", "UNTAGGED"]
    pcpCosName: str


class DscpValues(MefModel):
    dscpValues: list[int] = Field(min_length=1)


class CosDscpMapEntry(MefModel):
    ipv4List: DscpValues | None = None
    ipv6List: DscpValues | None = None
    cosName: str | None = None


class CosDscpMap(MefModel):
    dscpValueCoSList: list[CosDscpMapEntry] | None = None
    otherIPv4: str | None = None
    otherIPv6: str | None = None
    notIP: str | None = None


class IngressClassOfServiceMap(MefModel):
    """MEF 10.4 §10.5, the schema's ``oneOf`` CosNameFromEp / CosNameFromCtagPcp / CosNameFromDscp.

    One model keyed by ``mapType`` rather than a tagged union, so that error paths stay plain JSON
    pointers; ``map_M`` is checked against the shape its ``mapType`` calls for.
    """

    mapType: Literal["ENDPOINT", "C_TAG_PCP", "DSCP"]
    map_M: Any
    l2cp_P: list[CosL2cp] | None = None

    @model_validator(mode="after")
    def _map_matches_type(self) -> IngressClassOfServiceMap:
        if self.mapType == "ENDPOINT":
            if not isinstance(self.map_M, str):
                raise ValueError("map_M of an ENDPOINT map is the Class of Service Name")
        elif self.mapType == "C_TAG_PCP":
            if not isinstance(self.map_M, list) or len(self.map_M) != 9:
                raise ValueError("map_M of a C_TAG_PCP map lists 9 entries (PCP 0-7 and UNTAGGED)")
            self.map_M = [_nested(CosUniPcpMapEntry, entry, "map_M") for entry in self.map_M]
        else:
            self.map_M = _nested(CosDscpMap, self.map_M, "map_M")
        return self

    def cos_names(self) -> set[str]:
        if isinstance(self.map_M, str):
            return {self.map_M}
        if isinstance(self.map_M, list):
            return {entry.pcpCosName for entry in self.map_M}
        names = {n for n in (self.map_M.otherIPv4, self.map_M.otherIPv6, self.map_M.notIP) if n}
        return names | {e.cosName for e in self.map_M.dscpValueCoSList or [] if e.cosName}


def _nested(model: type[M], data: Any, name: str) -> M:
    """``data`` as ``model`` inside a validator, its errors reported as one message on ``name``."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'/'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ValueError(f"{name} is not a valid {model.__name__}: {problems}") from None


class ColorFromPcpMapEntry(MefModel):
    pcpValue: PcpValue
    pcpColor: FrameColor


class ColorFromDscpEntry(MefModel):
    dscpList: list[int] = Field(min_length=1)
    ipv4Color: FrameColor | None = None
    ipv6Color: FrameColor | None = None


class ColorMap(MefModel):
    """MEF 10.4 §10.6, the schema's ``oneOf`` ColorFromEp / ColorFromDei / ColorFromPCP / ColorFromDscp."""

    mapType: Literal["ENDPOINT", "DEI", "PCP", "DSCP"]
    epColor: FrameColor | None = None
    colorFromPcpMap: list[ColorFromPcpMapEntry] | None = Field(default=None, min_length=8, max_length=8)
    colorFromDscpMap: list[ColorFromDscpEntry] | None = Field(default=None, min_length=1)


class OrderedPair(MefModel):
    fromCarrierEthernetServiceEndPoint: str | None = None
    toCarrierEthernetServiceEndPoint: str | None = None


class PmMetric(MefModel):
    """The ordered pairs of EVC End Points a performance objective applies to (MEF 10.4 §8.8)."""

    orderedPairList: list[OrderedPair] = Field(min_length=1)


class OneWayFrameDelayPmMetric(PmMetric):
    oneWayFdPercentile: float | None = percentage()
    oneWayFdObjective: TimeDuration | None = None


class OneWayMeanFrameDelayPmMetric(PmMetric):
    oneWayMfdObjective: TimeDuration | None = None


class OneWayFrameDelayRangePmMetric(PmMetric):
    oneWayFdrPercentile: float | None = percentage()
    oneWayFdrObjective: TimeDuration | None = None


class OneWayInterFrameDelayVariationPmMetric(PmMetric):
    timeDuration: TimeDuration | None = None
    oneWayIfdvPencentile: float | None = percentage()  # sic: the schema's spelling
    oneWayIfdvObjective: TimeDuration | None = None


class OneWayFrameLossRatioPmMetric(PmMetric):
    oneWayFlrObjective: float | None = percentage()


class OneWayAvailabilityPmMetric(PmMetric):
    oneWayAvailabilityObjective: float | None = percentage()


class OneWayHighLossIntervalPmMetric(PmMetric):
    oneWayHighLossIntervalsObjective: int | None = Field(default=None, ge=0)


class OneWayConsecutiveHighLossIntervalsPmMetric(PmMetric):
    consecutiveNumberP: int | None = Field(default=None, ge=1)
    oneWayChliObjective: int | None = Field(default=None, ge=1)


class SlsCosNameEntry(MefModel):
    """The performance objectives of one Class of Service Name."""

    cosName: str = Field(min_length=1)
    deltaT: int | None = Field(default=None, ge=1)
    thresholdC: float | None = Field(default=None, ge=0, le=1)
    consecutiveIntervalN: int | None = Field(default=None, ge=1)
    oneWayFrameDelayPmMetric: list[OneWayFrameDelayPmMetric] | None = None
    oneWayMeanFrameDelayPmMetric: list[OneWayMeanFrameDelayPmMetric] | None = None
    oneWayFrameDelayRangePmMetric: list[OneWayFrameDelayRangePmMetric] | None = None
    oneWayInterFrameDelayVariationPmMetric: list[OneWayInterFrameDelayVariationPmMetric] | None = None
    oneWayFrameLossRatioPmMetric: list[OneWayFrameLossRatioPmMetric] | None = Field(
        default=None, max_length=1
    )
    oneWayAvailabilityPmMetric: list[OneWayAvailabilityPmMetric] | None = None
    oneWayHighLossIntervalsPmMetric: list[OneWayHighLossIntervalPmMetric] | None = None
    oneWayConsecutiveHighLossIntervalsPmMetric: list[OneWayConsecutiveHighLossIntervalsPmMetric] | None = None
    oneWayCompositePmMetric: list[dict[str, Any]] | None = None
    oneWayGroupAvailabilityPmMetric: list[dict[str, Any]] | None = None


class CarrierEthernetSls(MefModel):
    """MEF 10.4 §8.8 Service Level Specification: objectives per CoS Name over a time period."""

    startTime: datetime | None = None
    timeDuration: TimeDuration | None = None
    slsCosNameEntry: list[SlsCosNameEntry] | None = Field(default=None, min_length=1)


class FrameDisposition(MefModel):
    unicast: Literal["DISCARD", "DELIVER_UNCONDITIONALLY", "DELIVER_CONDITIONALLY"] | None = None
    multicast: Literal["DISCARD", "DELIVER_UNCONDITIONALLY", "DELIVER_CONDITIONALLY"] | None = None
    broadcast: Literal["DISCARD", "DELIVER_UNCONDITIONALLY", "DELIVER_CONDITIONALLY"] | None = None


class SourceMacAddressLimit(MefModel):
    limit: int | None = Field(default=None, ge=1)
    interval: TimeDuration | None = None
