"""PRESTO client: how SOF asks ICM for network resources (MEF 60 NRP, RESTCONF RPCs).

Every call is ``POST /restconf/operations/<rpc>/`` with ``{"input": {...}}`` answered by ``{"output":
{...}}``. Names on the wire are TAPI's (kebab-case); the ``lso-...`` RPCs are this project's extensions
(docs/presto.md). Rates are given in Mbit/s here because that is how products state them; the wire
carries MEF NRP bandwidth-profile flows in bit/s and bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from lso.mef.client import MefApiClient, MefApiError

MBPS = 1_000_000
RPC = "/restconf/operations"


class PrestoError(MefApiError):
    """ICM refused an RPC; carries the HTTP status and the MEF error body it answered."""

    api = "PRESTO"

    @property
    def rpc(self) -> str:
        return self.operation

    @property
    def reason(self) -> str:
        return self.message


@dataclass(frozen=True)
class BandwidthProfile:
    """A MEF 10.3 ingress bandwidth profile flow (colour-blind, coupling flag 0)."""

    cir_mbps: float
    eir_mbps: float = 0.0
    cbs_bytes: int = 12_176
    ebs_bytes: int = 12_176

    def wire(self) -> dict[str, Any]:
        return {
            "cir": round(self.cir_mbps * MBPS),
            "cbs": self.cbs_bytes,
            "eir": round(self.eir_mbps * MBPS),
            "ebs": self.ebs_bytes,
            "coupling-flag": False,
            "color-mode": "COLOR_BLIND",
        }


@dataclass(frozen=True)
class EndPoint:
    """A connectivity service end point: a SIP and the CE-VLAN ids mapped to it (empty = all-to-one)."""

    sip: str
    ce_vlan_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class ServiceInterfacePoint:
    uuid: str
    site_id: str
    element: str
    port: str
    speed_mbps: int
    s_vlan_id: int | None = None
    """At an ENNI: the S-VLAN ID this SIP stands for."""


@dataclass(frozen=True)
class ConnectivityService:
    """What SOF needs of a PRESTO connectivity service; ``raw`` keeps the full TAPI object."""

    uuid: str
    lifecycle_state: str
    operational_state: str
    vni: int | None
    end_points: tuple[str, ...]
    route: tuple[str, ...]
    bandwidth: BandwidthProfile | None
    raw: dict[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True)
class SiteFeasibility:
    site_id: str
    on_net: bool
    free_uni_ports: int


@dataclass(frozen=True)
class Feasibility:
    """POQ serviceability: are both sites on-net with free UNI ports, and is there a path."""

    feasible: bool
    sites: tuple[SiteFeasibility, ...]
    path_found: bool
    distance_km: float | None
    hop_count: int | None
    reason: str | None


@dataclass(frozen=True)
class ActivationTestResult:
    """One endpoint pair of a Y.1564-style service activation test."""

    a_end: str
    z_end: str
    passed: bool
    frame_delay_ms: float
    frame_delay_variation_ms: float
    frame_loss_ratio: float
    throughput_mbps: float
    raw: dict[str, Any] = field(repr=False, compare=False)


class PrestoClient(MefApiClient):
    """One method per PRESTO RPC that SOF uses; each raises :class:`PrestoError` when ICM refuses."""

    error = PrestoError

    def create_connectivity_service(
        self,
        uuid: str,
        end_points: Sequence[EndPoint],
        bandwidth: BandwidthProfile,
        *,
        name: str | None = None,
    ) -> ConnectivityService:
        """Create (or, for a ``uuid`` ICM already knows, return) a point-to-point EVC between two SIPs.

        Idempotent on ``uuid``: a retry after a crash configures nothing twice.
        """
        body: dict[str, Any] = {
            "uuid": uuid,
            "end-point": [_end_point(ep, bandwidth) for ep in end_points],
            "conn-constraint": {
                "service-type": "POINT_TO_POINT_CONNECTIVITY",
                "requested-capacity": _capacity(bandwidth),
            },
        }
        if name:
            body["name"] = [{"value-name": "name", "value": name}]
        return _service(self._call("create-connectivity-service", body)["service"])

    def delete_connectivity_service(self, uuid: str) -> None:
        """Remove the service from every element and release its resources; deleting twice is fine."""
        self._call("delete-connectivity-service", {"service-id-or-name": uuid})

    def get_connectivity_service(self, uuid: str) -> ConnectivityService:
        """The service, or :class:`PrestoError` with ``not_found`` when ICM does not know it."""
        output = self._call("get-connectivity-service-details", {"service-id-or-name": uuid})
        return _service(output["service"])

    def list_connectivity_services(self) -> list[ConnectivityService]:
        output = self._call("get-connectivity-service-list", None)
        return [_service(s) for s in output.get("service", [])]

    def update_bandwidth(
        self, uuid: str, bandwidth: BandwidthProfile, sip: str | None = None
    ) -> ConnectivityService:
        """Change the bandwidth profile of every end point (and the reservation on the route).

        Given one of the service's SIPs, the full ingress-bwp-flow (CIR, CBS, EIR, EBS) is sent; without,
        only the capacity, which ICM applies as a CIR.
        """
        body: dict[str, Any] = {
            "service-id-or-name": uuid,
            "conn-constraint": {"requested-capacity": _capacity(bandwidth)},
        }
        if sip is not None:
            body["end-point"] = _end_point(EndPoint(sip), bandwidth)
        return _service(self._call("update-connectivity-service", body)["service"])

    def allocate_sip(
        self, site_id: str, allocation_key: str, port_speed_mbps: int, s_vlan_id: int | None = None
    ) -> ServiceInterfacePoint:
        """Reserve a free UNI port at ``site_id`` (at an ENNI: a free S-VLAN, or exactly ``s_vlan_id``);
        the same ``allocation_key`` always gets the same SIP."""
        body: dict[str, Any] = {
            "site-id": site_id,
            "allocation-key": allocation_key,
            "port-speed": port_speed_mbps,
        }
        if s_vlan_id is not None:
            body["s-vlan-id"] = s_vlan_id
        return _sip(self._call("lso-allocate-service-interface-point", body)["sip"])

    def release_sip(self, allocation_key: str) -> None:
        """Give the SIP reserved under ``allocation_key`` back; releasing twice is fine."""
        self._call("lso-release-service-interface-point", {"allocation-key": allocation_key})

    def check_feasibility(self, site_a: str, site_z: str, capacity_mbps: float) -> Feasibility:
        body = {"site-a": site_a, "site-z": site_z, "capacity": round(capacity_mbps * MBPS)}
        out = self._call("lso-check-feasibility", body)
        return Feasibility(
            feasible=bool(out["feasible"]),
            sites=tuple(
                SiteFeasibility(s["site-id"], bool(s["on-net"]), int(s["free-uni-ports"]))
                for s in out["site"]
            ),
            path_found=bool(out["path-found"]),
            distance_km=out.get("distance-km"),
            hop_count=out.get("hop-count"),
            reason=out.get("reason"),
        )

    def run_service_activation_test(
        self, uuid: str, cir_mbps: float, eir_mbps: float = 0.0
    ) -> list[ActivationTestResult]:
        """Run a Y.1564-style test between every pair of the service's UNIs (computed, not waited for)."""
        body = {"service-id-or-name": uuid, "cir": round(cir_mbps * MBPS), "eir": round(eir_mbps * MBPS)}
        out = self._call("lso-run-service-activation-test", body)
        return [_test_result(r) for r in out["result"]]

    def start_performance_monitoring(
        self, uuid: str, profiles: list[dict[str, Any]] | None = None
    ) -> list[dict[str, Any]]:
        """Start proactive PM sessions, one per ordered pair of the service's end points, measuring per
        ``profiles`` (one per CoS; kept by the sessions until changed); returns them (idempotent)."""
        body: dict[str, Any] = {"service-id-or-name": uuid}
        if profiles is not None:
            body["profile"] = profiles
        out = self._call("lso-start-performance-monitoring", body)
        return list(out.get("session", []))

    def reroute_connectivity_service(
        self, uuid: str, avoid_links: Sequence[str] = (), *, avoid_current_path: bool = False
    ) -> ConnectivityService:
        """Move the service onto another path that avoids ``avoid_links`` (``A--Z`` link ids) or every
        link of its current path; a 409/422 :class:`PrestoError` when ICM finds no such path."""
        body: dict[str, Any] = {"uuid": uuid, "avoidCurrentPath": avoid_current_path}
        if avoid_links:
            body["avoidLink"] = list(avoid_links)
        output = self._call("lso-reroute-connectivity-service", body)
        return _service(output.get("service", output))

    def get_performance_measurements(self, uuid: str, since: int | None = None) -> list[dict[str, Any]]:
        """The completed measurement intervals of the service's PM sessions that start at or after
        ``since``, per ordered pair of end points, each with the ``profile`` its session measures by."""
        body: dict[str, Any] = {"service-id-or-name": uuid}
        if since is not None:
            body["since"] = since
        out = self._call("lso-get-performance-measurements", body)
        return list(out.get("measurement", []))

    def get_alarms(self, connectivity_service_id: str | None = None) -> list[dict[str, Any]]:
        """ICM's alarms (raised and cleared), optionally only those affecting one connectivity service."""
        body = {} if connectivity_service_id is None else {"connectivityServiceId": connectivity_service_id}
        out = self._call("lso-get-alarms", body)
        return list(out.get("alarm", []))

    def register_notification_hub(self, callback: str, query: str | None = None) -> dict[str, Any]:
        """Subscribe ``callback`` to ICM's alarm and reroute events (the ``lso-notifications`` hub)."""
        body = {"callback": callback, "query": query}
        hub: dict[str, Any] = self._json("POST", f"{RPC}/lso-notifications/hub", json=body)
        return hub

    def _call(self, rpc: str, body: dict[str, Any] | None) -> dict[str, Any]:
        payload = {} if body is None else {"input": body}
        answer = self._json("POST", f"{RPC}/{rpc}/", json=payload, operation=rpc)
        output: dict[str, Any] = answer.get("output", {}) if answer else {}
        return output


def _capacity(bandwidth: BandwidthProfile) -> dict[str, Any]:
    return {
        "total-size": {"value": round(bandwidth.cir_mbps + bandwidth.eir_mbps), "unit": "MBPS"},
    }


def _end_point(ep: EndPoint, bandwidth: BandwidthProfile) -> dict[str, Any]:
    vlans: dict[str, Any] = (
        {"vlan-id-mapping-type": "LIST", "vlan-id": [{"vlan-id": v} for v in ep.ce_vlan_ids]}
        if ep.ce_vlan_ids
        else {"vlan-id-mapping-type": "ALL"}
    )
    return {
        "service-interface-point": {"service-interface-point-id": ep.sip},
        "layer-protocol-name": "ETH",
        "role": "SYMMETRIC",
        "direction": "BIDIRECTIONAL",
        "nrp-carrier-eth-connectivity-end-point-resource": {
            "ce-vlan-id-list-and-untag": vlans,
            "ingress-bwp-flow": bandwidth.wire(),
        },
    }


def _names(obj: dict[str, Any]) -> dict[str, str]:
    return {n.get("value-name", ""): n.get("value", "") for n in obj.get("name", [])}


def _service(raw: dict[str, Any]) -> ConnectivityService:
    names = _names(raw)
    end_points = raw.get("end-point", [])
    flow = (
        end_points[0].get("nrp-carrier-eth-connectivity-end-point-resource", {}).get("ingress-bwp-flow")
        if end_points
        else None
    )
    return ConnectivityService(
        uuid=raw["uuid"],
        lifecycle_state=raw.get("lifecycle-state", ""),
        operational_state=raw.get("operational-state", ""),
        vni=int(names["vni"]) if names.get("vni") else None,
        end_points=tuple(ep["service-interface-point"]["service-interface-point-id"] for ep in end_points),
        route=tuple(names["route"].split(",")) if names.get("route") else (),
        bandwidth=(
            BandwidthProfile(
                flow["cir"] / MBPS, flow.get("eir", 0) / MBPS, flow.get("cbs", 0), flow.get("ebs", 0)
            )
            if flow
            else None
        ),
        raw=raw,
    )


def _sip(raw: dict[str, Any]) -> ServiceInterfacePoint:
    names = _names(raw)
    size = raw.get("total-potential-capacity", {}).get("total-size", {})
    return ServiceInterfacePoint(
        uuid=raw["uuid"],
        site_id=names.get("site-id", ""),
        element=names.get("element", ""),
        port=names.get("port", ""),
        speed_mbps=int(size.get("value", 0)),
        s_vlan_id=int(names["s-vlan-id"]) if names.get("s-vlan-id") else None,
    )


def _test_result(raw: dict[str, Any]) -> ActivationTestResult:
    performance = raw["performance-test"]
    return ActivationTestResult(
        a_end=raw["a-end"],
        z_end=raw["z-end"],
        passed=bool(raw["passed"]),
        frame_delay_ms=float(performance["frame-delay-ms"]),
        frame_delay_variation_ms=float(performance["frame-delay-variation-ms"]),
        frame_loss_ratio=float(performance["frame-loss-ratio"]),
        throughput_mbps=float(performance["throughput-mbps"]),
        raw=raw,
    )
