"""Connectivity services: plan (route, VNI, bandwidth, SIPs), configure every element, undo on failure.

A create is idempotent on the caller's uuid and safe to retry after a crash: the plan is committed
first (state ``planned``), then every element is configured through ADAGIO with one keyed, idempotent
PUT of the route's configurations, then the service is ``installed``. A retry of a planned service
resumes configuring; one of an installed service returns it. If an element refuses, ICM removes the
configuration from every element of the route, releases what it allocated and answers the element's
error.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy.orm import Session

from lso.db import Database
from lso.icm import resources
from lso.icm.adagio_client import AdagioClient, AdagioError
from lso.icm.tapi import BwpFlow, CreateInput, EndPoint, UpdateInput
from lso.icm.topology import SIPS, Route, shortest_route
from lso.mef.dates import now_iso
from lso.mef.errors import Issue, MefError, not_found, unprocessable
from lso.mef.store import Document, Store

SERVICES = Store("icm.connectivityService", "connectivity service")
PLANNED, INSTALLED, REMOVED = "planned", "installed", "removed"


class ConnectivityServices:
    def __init__(self, db: Database, adagio: AdagioClient) -> None:
        self.db = db
        self.adagio = adagio

    def create(self, request: CreateInput) -> Document:
        with self.db.session(serialize=resources.LOCK) as session:
            doc = SERVICES.find(session, request.uuid)
            if doc is None or doc["state"] == REMOVED:
                doc = _plan(session, request, replace=doc is not None)
        if doc["state"] == INSTALLED:
            return doc
        try:
            self.adagio.configure_route(doc["id"], element_configurations(doc))
        except AdagioError as exc:
            self._remove(doc)
            raise MefError(
                502 if exc.status >= 500 else 409,
                f"service {doc['id']} not created, nothing left configured: {exc.message}",
                code="internalError" if exc.status >= 500 else "conflict",
            ) from exc
        with self.db.session() as session:
            return SERVICES.put(session, {**SERVICES.get(session, doc["id"]), "state": INSTALLED})

    def delete(self, service_id: str) -> Document | None:
        """Remove the service everywhere; a service already removed (or never created) is not an error."""
        with self.db.session() as session:
            doc = SERVICES.find(session, service_id)
        if doc is None or doc["state"] == REMOVED:
            return doc
        return self._remove(doc)

    def get(self, service_id: str) -> Document:
        with self.db.session() as session:
            doc = SERVICES.find(session, service_id)
        if doc is None or doc["state"] == REMOVED:
            raise not_found("connectivity service", service_id)
        return doc

    def list(self) -> list[Document]:
        with self.db.session() as session:
            return [d for d in SERVICES.all(session) if d["state"] != REMOVED]

    def update(self, request: UpdateInput) -> Document:
        """A new bandwidth profile: re-reserve on the route, then re-configure every element (idempotent)."""
        doc = self.get(request.service_id_or_name)
        flow = _requested_flow(request.end_point, request.conn_constraint.requested_capacity)
        if flow is None:
            raise unprocessable(
                Issue("/input/end-point", "a new ingress-bwp-flow or requested-capacity is needed")
            )
        demand = _demand([flow])
        with self.db.session(serialize=resources.LOCK) as session:
            route = Route(tuple(doc["route"]), tuple(doc["links"]), doc["distanceKm"])
            resources.reserve_bandwidth(session, route, doc["id"], demand)
            end_points = [{**ep, "bwp": flow.adagio()} for ep in doc["endPoints"]]
            doc = SERVICES.put(session, {**doc, "endPoints": end_points, "demandMbps": demand})
        try:
            self.adagio.configure_route(doc["id"], element_configurations(doc))
        except AdagioError as exc:
            raise MefError(502, f"update of {doc['id']} failed: {exc.message}", code="internalError") from exc
        return doc

    def _remove(self, doc: Document) -> Document:
        pending = doc.get("pendingRoute") or {"route": [], "links": []}  # a reroute under way
        for element in dict.fromkeys(doc["route"] + pending["route"]):
            self.adagio.unconfigure(element, doc["id"])
        with self.db.session(serialize=resources.LOCK) as session:
            resources.release_bandwidth(
                session, list(dict.fromkeys(doc["links"] + pending["links"])), doc["id"]
            )
            resources.release_vni(session, doc["vni"], doc["id"])
            for ep in doc["endPoints"]:
                resources.return_sip(session, ep["sip"], doc["id"])
            return SERVICES.put(session, {**SERVICES.get(session, doc["id"]), "state": REMOVED})


def element_configurations(doc: Document) -> dict[str, Document]:
    """What each element of the route holds for the service (the ADAGIO PUT bodies)."""
    route: list[str] = doc["route"]
    configs = {}
    for index, element in enumerate(route):
        peers = [route[i] for i in (index - 1, index + 1) if 0 <= i < len(route)]
        unis = [
            {"port": ep["port"], "ceVlanIds": ep["ceVlanIds"], "ingressBandwidthProfile": ep["bwp"]}
            | ({"sVlanId": ep["sVlanId"]} if ep.get("sVlanId") else {})  # an OVC End Point at an ENNI
            for ep in doc["endPoints"]
            if ep["element"] == element
        ]
        configs[element] = {"vni": doc["vni"], "uniPorts": unis, "nniPeers": peers}
    return configs


def _plan(session: Session, request: CreateInput, replace: bool) -> Document:
    """Route, VNI, bandwidth and SIPs for a new service, all in the caller's transaction."""
    default = _requested_flow(None, request.conn_constraint.requested_capacity)
    flows: list[BwpFlow] = []
    sips: list[Document] = []
    for index, ep in enumerate(request.end_point):
        sip = SIPS.find(session, ep.service_interface_point.service_interface_point_id)
        pointer = f"/input/end-point/{index}/service-interface-point/service-interface-point-id"
        if sip is None:
            raise unprocessable(Issue(pointer, f"{pointer}: no such service interface point"))
        flow = ep.resource.ingress_bwp_flow or default
        if flow is None:
            raise unprocessable(
                Issue(f"/input/end-point/{index}", "an ingress-bwp-flow or a requested-capacity is needed")
            )
        sips.append(sip)
        flows.append(flow)
    if sips[0]["id"] == sips[1]["id"]:
        raise unprocessable(Issue("/input/end-point/1", "both end points use the same SIP"))
    demand = _demand(flows)
    route = shortest_route(session, sips[0]["element"], sips[1]["element"], demand)
    if route is None:
        raise MefError(
            409,
            f"no route with {demand:g} Mbit/s free between {sips[0]['element']} and {sips[1]['element']}",
            code="conflict",
        )
    for sip in sips:
        resources.use_sip(session, sip["id"], request.uuid)
    resources.reserve_bandwidth(session, route, request.uuid, demand)
    doc = {
        "id": request.uuid,
        "state": PLANNED,
        "name": _extra_name(request.model_extra),
        "vni": resources.allocate_vni(session, request.uuid),
        "route": list(route.elements),
        "links": list(route.links),
        "distanceKm": route.distance_km,
        "demandMbps": demand,
        "endPoints": [
            _end_point(ep, sip, flow, i)
            for i, (ep, sip, flow) in enumerate(zip(request.end_point, sips, flows, strict=True))
        ],
        "createdAt": now_iso(),
    }
    return SERVICES.put(session, doc) if replace else SERVICES.add(session, doc)


def _end_point(ep: EndPoint, sip: Document, flow: BwpFlow, index: int) -> Document:
    vlans = ep.resource.ce_vlan_id_list_and_untag
    return {
        "localId": ep.local_id or f"ep-{index + 1}",
        "sip": sip["id"],
        "element": sip["element"],
        "port": sip["port"],
        "ceVlanIds": [v.vlan_id for v in vlans.vlan_id] if vlans.vlan_id_mapping_type == "LIST" else [],
        "bwp": flow.adagio(),
    } | ({"sVlanId": sip["sVlanId"]} if sip.get("sVlanId") else {})


def _requested_flow(end_point: EndPoint | None, capacity: Any) -> BwpFlow | None:
    if end_point is not None and end_point.resource.ingress_bwp_flow is not None:
        return end_point.resource.ingress_bwp_flow
    if capacity is not None and capacity.total_size is not None:
        return BwpFlow(cir=round(capacity.total_size.mbps() * 1_000_000))
    return None


def _demand(flows: list[BwpFlow]) -> float:
    """Mbit/s to hold on every link: the largest CIR+EIR any end point may send."""
    return float(math.ceil(max(f.cir + f.eir for f in flows) / 1_000_000))


def _extra_name(extra: dict[str, Any] | None) -> str | None:
    for name in (extra or {}).get("name", []) or []:
        if isinstance(name, dict) and name.get("value-name") == "name":
            return str(name.get("value"))
    return None
