"""What SOF reads from MEF 101 service configurations, and an EPL order decomposed into its components.

Only the properties SOF orchestrates are modelled; others MEF 101 allows are accepted and kept in the
stored order untouched. Names are MEF 101's (``carrierEthernetSubscriberUni.yaml``,
``carrierEthernetEvc.yaml``, ``common.yaml`` InformationRate/DataSize).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

UNI_TYPE = "urn:mef:lso:spec:service:carrier-ethernet-subscriber-uni:v1.0.0:all"
EVC_TYPE = "urn:mef:lso:spec:service:carrier-ethernet-evc:v1.0.0:all"
CONNECTS_TO_UNI = "CONNECTS_TO_UNI"
CONNECTS_TO_ENNI = "CONNECTS_TO_ENNI"
INSTALL_LOCATION = "INSTALL_LOCATION"
DEFAULT_PORT_SPEED_MBPS = 1000

_RATE_MBPS = {"BPS": 1e-6, "KBPS": 1e-3, "MBPS": 1.0, "GBPS": 1e3, "TBPS": 1e6, "PBPS": 1e9, "EBPS": 1e12}
_SIZE_BYTES = {"BYTES": 1, "KBYTES": 1024, "MBYTES": 1024**2, "GBYTES": 1024**3}
_PHY_SPEED = re.compile(r"^(\d+(?:_\d+)?)(G?)BASE")
M = TypeVar("M", bound=BaseModel)


class _Mef(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class InformationRate(_Mef):
    irValue: float = Field(ge=0)
    irUnits: Literal["BPS", "KBPS", "MBPS", "GBPS", "TBPS", "PBPS", "EBPS"]

    @property
    def mbps(self) -> float:
        return self.irValue * _RATE_MBPS[self.irUnits]


class DataSize(_Mef):
    dataSizeValue: int = Field(ge=0)
    dataSizeUnits: Literal["BYTES", "KBYTES", "MBYTES", "GBYTES"]

    @property
    def bytes(self) -> int:
        return self.dataSizeValue * _SIZE_BYTES[self.dataSizeUnits]


class IngressBwpFlow(_Mef):
    """MEF 101 IngressBwpFlow: the EVC End Point ingress bandwidth profile (colour-blind, CF 0)."""

    cir: InformationRate
    cbs: DataSize | None = None
    eir: InformationRate | None = None
    ebs: DataSize | None = None


class PhysicalLink(_Mef):
    id: str | None = None
    physicalLink: str


class SubscriberUniConfiguration(_Mef):
    type: Literal["urn:mef:lso:spec:service:carrier-ethernet-subscriber-uni:v1.0.0:all"] = Field(
        alias="@type"
    )
    identifier: str | None = Field(default=None, min_length=1, max_length=45)
    maximumFrameSize: int = Field(default=1522, ge=1522, le=16000)
    listOfPhyLinks: list[PhysicalLink] = Field(default_factory=list)

    @property
    def port_speed_mbps(self) -> int:
        """The speed of the first physical link (``1000BASE_LX`` → 1000), or 1 Gbit/s when unstated."""
        if not self.listOfPhyLinks:
            return DEFAULT_PORT_SPEED_MBPS
        match = _PHY_SPEED.match(self.listOfPhyLinks[0].physicalLink)
        if not match:
            return DEFAULT_PORT_SPEED_MBPS
        value = float(match.group(1).replace("_", "."))
        return int(value * 1000) if match.group(2) else int(value)


class VlanIdListing(_Mef):
    type: Literal["LIST"] = "LIST"
    vlanIdList: list[int] = Field(min_length=1, max_length=1)


class OvcEndPointMapFormE(_Mef):
    sVlanIdList: VlanIdListing


class OvcEndPointMap(_Mef):
    """MEF 101 ``carrierEthernetOvcEndPoint.yaml`` OvcEndPointMap, form E: the S-VLAN ID an end of the
    EVC at an ENNI is mapped to (MEF 26.2 §16.5), which both networks of the ENNI must agree on."""

    ovcEndPointMapForm: Literal["FORM_E"]
    ovcEndPointMapFormE: list[OvcEndPointMapFormE] = Field(min_length=1, max_length=1)

    @property
    def s_vlan_id(self) -> int:
        return self.ovcEndPointMapFormE[0].sVlanIdList.vlanIdList[0]


class EvcConfiguration(_Mef):
    type: Literal["urn:mef:lso:spec:service:carrier-ethernet-evc:v1.0.0:all"] = Field(alias="@type")
    identifier: str | None = Field(default=None, min_length=1, max_length=45)
    evcType: Literal["POINT_TO_POINT"] = "POINT_TO_POINT"
    maximumFrameSize: int = Field(default=1522, ge=1522, le=16000)
    listOfCosNames: list[str] | None = None
    ingressBwp: IngressBwpFlow
    ovcEndPointMap: OvcEndPointMap | None = None
    """At the ENNI end (an OVC): the S-VLAN the buyer stated; unstated, ICM picks a free one."""


@dataclass(frozen=True)
class TerminationError:
    """Why an item cannot be done, as Kylie's ``terminationError`` states it."""

    item_id: str
    property_path: str
    reason: str
    code: str = "invalidValue"

    def body(self) -> dict[str, str]:
        return {"code": self.code, "propertyPath": self.property_path, "value": self.reason}


@dataclass(frozen=True)
class UniComponent:
    item_id: str
    site_id: str
    port_speed_mbps: int
    maximum_frame_size: int


@dataclass(frozen=True)
class EvcComponent:
    """The EVC forwarding construct; ``uni_items`` are order item ids, ``uni_services`` inventory ids.

    An OVC (an Access E-Line sold over SONATA) is the same construct with one end at a UNI and the other
    at an ENNI with a partner network: ``ennis`` names the ENNI (ICM's id of it, ``CONNECTS_TO_ENNI``)."""

    item_id: str
    cir_mbps: float
    eir_mbps: float
    cbs_bytes: int
    ebs_bytes: int
    maximum_frame_size: int
    uni_items: tuple[str, ...] = ()
    uni_services: tuple[str, ...] = ()
    ennis: tuple[str, ...] = ()
    s_vlan_id: int | None = None
    """The S-VLAN of the end at the ENNI when the order names it (``ovcEndPointMap``)."""


@dataclass
class Decomposition:
    """A validated order: the UNIs to build and the EVCs that connect them."""

    unis: list[UniComponent] = field(default_factory=list)
    evcs: list[EvcComponent] = field(default_factory=list)


class Invalid(Exception):
    def __init__(self, error: TerminationError) -> None:
        super().__init__(error.reason)
        self.error = error


def decompose(order: dict[str, Any], known_unis: dict[str, UniComponent]) -> Decomposition:
    """The components of ``order``, or :class:`Invalid` naming the first bad item and why.

    ``known_unis`` are UNI services already in inventory (by service id) that an EVC may reference.
    """
    plan = Decomposition()
    items = order["serviceOrderItem"]
    for index, item in enumerate(items):
        path = f"/serviceOrderItem/{index}"
        if item.get("action") != "add":
            raise Invalid(TerminationError(item["id"], f"{path}/action", "only action add is orchestrated"))
        configuration = item.get("service", {}).get("serviceConfiguration")
        kind = configuration.get("@type") if isinstance(configuration, dict) else None
        if kind == UNI_TYPE:
            plan.unis.append(_uni(item, path))
        elif kind == EVC_TYPE:
            plan.evcs.append(_evc(item, path))
        else:
            raise Invalid(
                TerminationError(
                    item["id"],
                    f"{path}/service/serviceConfiguration/@type",
                    f"unknown service configuration @type {kind!r}",
                    "missingProperty" if kind is None else "invalidValue",
                )
            )
    _check_relationships(plan, items, known_unis)
    return plan


def _uni(item: dict[str, Any], path: str) -> UniComponent:
    service = item["service"]
    config = _validated(SubscriberUniConfiguration, service["serviceConfiguration"], item["id"], path)
    places = [p for p in service.get("place") or [] if p.get("role") == INSTALL_LOCATION]
    site = places[0].get("place", {}) if len(places) == 1 else {}
    if site.get("@type") != "GeographicSiteRef" or not site.get("id"):
        raise Invalid(
            TerminationError(
                item["id"],
                f"{path}/service/place",
                "a UNI needs exactly one place of role INSTALL_LOCATION that is a GeographicSiteRef",
                "missingProperty",
            )
        )
    return UniComponent(item["id"], site["id"], config.port_speed_mbps, config.maximumFrameSize)


def _evc(item: dict[str, Any], path: str) -> EvcComponent:
    service = item["service"]
    config = _validated(EvcConfiguration, service["serviceConfiguration"], item["id"], path)
    bwp = config.ingressBwp
    if bwp.cir.mbps <= 0:
        raise Invalid(
            TerminationError(
                item["id"],
                f"{path}/service/serviceConfiguration/ingressBwp/cir",
                "the EVC CIR must be positive",
            )
        )
    item_refs = tuple(
        rel["orderItem"]["itemId"]
        for rel in item.get("serviceOrderItemRelationship") or []
        if rel.get("relationshipType") == CONNECTS_TO_UNI
    )
    service_refs = tuple(
        rel["service"]["id"]
        for rel in service.get("serviceRelationship") or []
        if rel.get("relationshipType") == CONNECTS_TO_UNI
    )
    ennis = tuple(
        rel["service"]["id"]
        for rel in service.get("serviceRelationship") or []
        if rel.get("relationshipType") == CONNECTS_TO_ENNI
    )
    return EvcComponent(
        item_id=item["id"],
        ennis=ennis,
        cir_mbps=bwp.cir.mbps,
        eir_mbps=bwp.eir.mbps if bwp.eir else 0.0,
        cbs_bytes=bwp.cbs.bytes if bwp.cbs else 0,
        ebs_bytes=bwp.ebs.bytes if bwp.ebs else 0,
        maximum_frame_size=config.maximumFrameSize,
        uni_items=item_refs,
        uni_services=service_refs,
        s_vlan_id=config.ovcEndPointMap.s_vlan_id if config.ovcEndPointMap else None,
    )


def _check_relationships(
    plan: Decomposition, items: list[dict[str, Any]], known_unis: dict[str, UniComponent]
) -> None:
    index_of = {item["id"]: i for i, item in enumerate(items)}
    unis = {uni.item_id: uni for uni in plan.unis}
    for evc in plan.evcs:
        path = f"/serviceOrderItem/{index_of[evc.item_id]}"
        for ref in evc.uni_items:
            if ref not in unis:
                raise Invalid(
                    TerminationError(
                        evc.item_id,
                        f"{path}/serviceOrderItemRelationship",
                        f"CONNECTS_TO_UNI names item {ref!r}, which is not a UNI item of this order",
                        "referenceNotFound",
                    )
                )
        for ref in evc.uni_services:
            if ref not in known_unis:
                raise Invalid(
                    TerminationError(
                        evc.item_id,
                        f"{path}/service/serviceRelationship",
                        f"CONNECTS_TO_UNI names service {ref!r}, which is not an active UNI in inventory",
                        "referenceNotFound",
                    )
                )
        ends = [unis[ref] for ref in evc.uni_items] + [known_unis[ref] for ref in evc.uni_services]
        if len(ends) + len(evc.ennis) != 2 or not ends:
            raise Invalid(
                TerminationError(
                    evc.item_id,
                    f"{path}/serviceOrderItemRelationship",
                    "a POINT_TO_POINT EVC connects exactly two UNIs (or a UNI and an ENNI), "
                    f"not {len(ends)} UNIs and {len(evc.ennis)} ENNIs",
                    "missingProperty" if len(ends) + len(evc.ennis) < 2 else "invalidValue",
                )
            )
        if any(end.maximum_frame_size < evc.maximum_frame_size for end in ends):
            raise Invalid(
                TerminationError(
                    evc.item_id,
                    f"{path}/service/serviceConfiguration/maximumFrameSize",
                    "the EVC maximumFrameSize exceeds a UNI's maximumFrameSize",
                )
            )


def _validated(model: type[M], data: Any, item_id: str, path: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = "/".join(str(part) for part in first["loc"])
        pointer = f"{path}/service/serviceConfiguration" + (f"/{where}" if where else "")
        code = "missingProperty" if first["type"] == "missing" else "invalidValue"
        raise Invalid(TerminationError(item_id, pointer, f"{pointer}: {first['msg']}", code)) from exc


@dataclass(frozen=True)
class ServiceChange:
    """A modify or delete item: ``service_id`` names the inventory service it changes; a modify carries
    the new EVC configuration (``configuration``) and its bandwidth profile (``evc``)."""

    item_id: str
    action: Literal["modify", "delete"]
    service_id: str
    path: str
    configuration: dict[str, Any] | None = None
    evc: EvcComponent | None = None


def changes_of(order: dict[str, Any]) -> list[ServiceChange]:
    """The modify/delete items of ``order`` checked for shape, or :class:`Invalid` for the first bad one.

    Whether the named services exist, belong to the orderer and may change is judged against inventory
    by the caller. An ``add`` next to changes is refused: one order either builds or changes services.
    """
    changes = []
    for index, item in enumerate(order["serviceOrderItem"]):
        path = f"/serviceOrderItem/{index}"
        action = item.get("action")
        if action not in ("modify", "delete"):
            raise Invalid(
                TerminationError(
                    item["id"], f"{path}/action", "an order that modifies or deletes services cannot also add"
                )
            )
        service = item.get("service") or {}
        ident = service.get("id")
        if not isinstance(ident, str) or not ident:
            raise Invalid(
                TerminationError(
                    item["id"], f"{path}/service/id", f"{action} names the service by id", "missingProperty"
                )
            )
        if action == "delete":
            changes.append(ServiceChange(item["id"], "delete", ident, path))
            continue
        configuration = service.get("serviceConfiguration")
        if not isinstance(configuration, dict) or configuration.get("@type") != EVC_TYPE:
            raise Invalid(
                TerminationError(
                    item["id"],
                    f"{path}/service/serviceConfiguration/@type",
                    f"only an EVC ({EVC_TYPE}) configuration can be modified",
                )
            )
        evc = _evc({**item, "serviceOrderItemRelationship": []}, path)
        changes.append(ServiceChange(item["id"], "modify", ident, path, configuration, evc))
    return changes
