"""ICM's view of the network: elements, links with capacity and distance, UNI ports as SIPs, and ENNIs
with partner networks as one SIP per S-VLAN ID (the S-VLAN an OVC End Point at the ENNI is mapped to).

Seeded from a footprint into ``icm.*`` resources; the graph for path computation is rebuilt from them
per request so bandwidth reserved by one service is seen by the next.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass

import networkx as nx
from sqlalchemy.orm import Session

from lso.footprint import Enni, Footprint
from lso.mef.store import Document, Store

NODES = Store("icm.node", "node")
LINKS = Store("icm.link", "link")
SIPS = Store("icm.sip", "service interface point")

AVAILABLE, RESERVED, IN_USE = "AVAILABLE", "RESERVED", "IN_USE"
ENABLED, DISABLED = "ENABLED", "DISABLED"
_SIP_NAMESPACE = uuid.UUID("6d1f3f7e-4a0b-4c6e-9a51-3b1c2f3e9d10")


def link_id(a: str, z: str) -> str:
    """The same name from either end (ADAGIO names links the same way)."""
    return "--".join(sorted((a, z)))


def sip_uuid(element: str, port: str) -> str:
    """Stable across restarts and re-seeding: derived from the element and port it stands for."""
    return str(uuid.uuid5(_SIP_NAMESPACE, f"{element}/{port}"))


def seed(session: Session, footprint: Footprint) -> None:
    """Create what the footprint describes and ICM does not know yet (safe on every start)."""
    sites = {site.element: site.id for site in footprint.sites}
    for element in footprint.elements:
        if NODES.find(session, element.id) is None:
            NODES.add(session, {"id": element.id, "role": element.role, "siteId": sites.get(element.id)})
        for index in range(1, element.uni_ports + 1):
            port = f"uni-{index}"
            sip_id = sip_uuid(element.id, port)
            if SIPS.find(session, sip_id) is None:
                SIPS.add(
                    session,
                    {
                        "id": sip_id,
                        "state": AVAILABLE,
                        "element": element.id,
                        "port": port,
                        "index": index,
                        "siteId": sites.get(element.id),
                        "speedMbps": element.uni_port_speed_mbps,
                    },
                    parent_id=sites.get(element.id),  # allocation looks ports up by site
                )
    for enni in footprint.ennis:
        seed_enni(session, enni)
    for link in footprint.links:
        ident = link_id(link.a, link.z)
        if LINKS.find(session, ident) is None:
            LINKS.add(
                session,
                {
                    "id": ident,
                    "a": link.a,
                    "z": link.z,
                    "capacityMbps": link.capacity_mbps,
                    "distanceKm": link.distance_km,
                    "reservations": {},
                },
            )


def seed_enni(session: Session, enni: Enni) -> None:
    """An ENNI's S-VLAN IDs as SIPs of its port, kept under the ENNI's id as ports are under a site's, so
    allocating a SIP "at" the ENNI hands out a free S-VLAN ID the same way a UNI port is handed out."""
    for vlan in enni.vlans:
        sip_id = sip_uuid(enni.element, f"{enni.port}.{vlan}")
        if SIPS.find(session, sip_id) is None:
            SIPS.add(
                session,
                {
                    "id": sip_id,
                    "state": AVAILABLE,
                    "element": enni.element,
                    "port": enni.port,
                    "sVlanId": vlan,
                    "enni": enni.id,
                    "index": vlan,
                    "siteId": enni.id,
                    "speedMbps": enni.capacity_mbps,
                },
                parent_id=enni.id,
            )


def free_mbps(link: Document) -> float:
    return float(link["capacityMbps"]) - sum(link["reservations"].values())


@dataclass(frozen=True)
class Route:
    elements: tuple[str, ...]
    links: tuple[str, ...]
    distance_km: float

    @property
    def hop_count(self) -> int:
        return len(self.links)


def graph(
    session: Session,
    demand_mbps: float = 0,
    service_id: str | None = None,
    avoid: frozenset[str] = frozenset(),
) -> nx.Graph:
    """The working links with ``demand_mbps`` free, weighted by distance.

    Elements and links that are operationally down (an alarm) are left out, and so are the ``avoid``
    links; what ``service_id`` already holds on a link counts as free for it (a reroute may keep links).
    """
    network: nx.Graph[str] = nx.Graph()
    network.add_nodes_from(node["id"] for node in NODES.all(session) if is_up(node))
    for link in LINKS.all(session):
        held = link["reservations"].get(service_id, 0) if service_id else 0
        usable = is_up(link) and link["id"] not in avoid and link["a"] in network and link["z"] in network
        if usable and free_mbps(link) + held >= demand_mbps:
            network.add_edge(link["a"], link["z"], distance=link["distanceKm"], id=link["id"])
    return network


def shortest_route(session: Session, a: str, z: str, demand_mbps: float) -> Route | None:
    """The shortest route by distance whose every link has ``demand_mbps`` free, or None."""
    return route_in(graph(session, demand_mbps), a, z)


def is_up(resource: Document) -> bool:
    """Operational state from ICM's alarms: a resource without one is up."""
    return resource.get("operationalState", ENABLED) == ENABLED


def set_operational_state(session: Session, source: str, state: str) -> bool:
    """Mark the resource an ECM alarm names (``element:X``, ``link:A--Z``, ``port:X/uni-N``) up or down.

    False when ICM does not know the resource (an alarm on something outside its topology).
    """
    store, ident = resource_of(source)
    doc = store.find(session, ident)
    if doc is None:
        return False
    if doc.get("operationalState", ENABLED) != state:
        store.put(session, {**doc, "operationalState": state})
    return True


def resource_of(source: str) -> tuple[Store, str]:
    kind, _, target = source.partition(":")
    if kind == "link":
        return LINKS, "--".join(sorted(target.split("--", 1)))
    if kind == "port":
        element, _, port = target.partition("/")
        return SIPS, sip_uuid(element, port)
    return NODES, target


def route_in(network: nx.Graph, a: str, z: str, weight: str = "distance") -> Route | None:
    """The cheapest route by ``weight`` (distance unless the caller set another cost on the edges)."""
    if a not in network or z not in network:
        return None
    try:
        hops: list[str] = nx.shortest_path(network, a, z, weight=weight)
    except nx.NetworkXNoPath:
        return None
    edges = [network.edges[x, y] for x, y in itertools.pairwise(hops)]
    return Route(tuple(hops), tuple(e["id"] for e in edges), float(sum(e["distance"] for e in edges)))
