"""The ``sim`` driver: simulated elements whose state lives in the database.

Elements, the configuration each holds per service, faults, impairments, alarms and OAM sessions are
stored as ``ecm.*`` resources, so an ECM killed with -9 and restarted still knows what every element
holds, and re-applying a configuration after a crash finds it already there instead of duplicating it.
Counters come from a traffic model (constant-rate offered load per UNI) marked by the real bandwidth
profile; delay and loss come from the path the elements' configuration traces through the links.
"""

from __future__ import annotations

import itertools
import math
import time
from collections import deque

from sqlalchemy.orm import Session

from lso.db import Database
from lso.ecm import oam
from lso.ecm.alarms import alarms as stored_alarms
from lso.ecm.alarms import clear_alarm, dispatch_and_wait, raise_alarm, raised_alarm
from lso.ecm.bandwidth import BandwidthProfile, police_period
from lso.ecm.drivers import (
    CounterQuery,
    Document,
    DriverError,
    ElementConfiguration,
    FaultKind,
    Impairment,
    OamSessionRequest,
    ServicePort,
    ServiceTestRequest,
    Traffic,
    service_test_answer,
)
from lso.footprint import Footprint
from lso.mef.dates import now_iso, parse
from lso.mef.store import Store

ELEMENTS = Store("ecm.element", "element")
CONFIGURATIONS = Store("ecm.configuration", "configuration")
FAULTS = Store("ecm.fault", "fault")
IMPAIRMENTS = Store("ecm.impairment", "impairment")
OAM_SESSIONS = Store("ecm.oamSession", "OAM session")
OAM_HISTORY = 96
"""Completed intervals a session keeps readable (a day of 15-minute intervals; MEF 35.1 asks ≥ 32)."""

CONFIGURED, REMOVED = "configured", "removed"
ACTIVE, CLEARED = "active", "cleared"
# Without an explicit traffic model a UNI is offered this share of its CIR.
DEFAULT_LOAD = 0.8
DEFAULT_FRAME_BYTES = 1000
_CAUSES = {"element": "equipmentFailure", "port": "lossOfSignal", "link": "linkDown"}


def link_id(a: str, z: str) -> str:
    """The name of the link between two elements, the same from either end."""
    return "--".join(sorted((a, z)))


def uni_port(index: int) -> str:
    return f"uni-{index}"


def seed(session: Session, footprint: Footprint) -> None:
    """Create the footprint's elements that do not exist yet (safe on every start)."""
    for element in footprint.elements:
        if ELEMENTS.find(session, element.id) is not None:
            continue
        links = [
            {
                "peer": link.z if link.a == element.id else link.a,
                "distanceKm": link.distance_km,
                "capacityMbps": link.capacity_mbps,
            }
            for link in footprint.links
            if element.id in (link.a, link.z)
        ]
        ports = [
            {"id": uni_port(i), "kind": "UNI", "speedMbps": element.uni_port_speed_mbps}
            for i in range(1, element.uni_ports + 1)
        ] + [{"id": f"nni-{link['peer']}", "kind": "NNI", "peer": link["peer"]} for link in links]
        ports += [
            {"id": enni.port, "kind": "ENNI", "speedMbps": enni.capacity_mbps, "enni": enni.id}
            for enni in footprint.ennis
            if enni.element == element.id
        ]
        ELEMENTS.add(session, {"id": element.id, "role": element.role, "ports": ports, "links": links})


class SimDriver:
    """Simulated elements behind ADAGIO; every method is one unit of work on the database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        # How long an element takes to commit a configuration. Real elements take seconds; the model
        # takes none unless asked (crash tests use it to stop a domain in the middle of an activation).
        # Kept in memory only: a restarted ECM is fast again.
        self.commit_latency_s = 0.0
        # The elements' inventory (ports, links) is seeded once and never changes afterwards, so a
        # configuration call checks against this copy instead of reading the element's row each time.
        self._inventory: dict[str, Document] = {}

    # --- inventory -------------------------------------------------------------------------------

    def elements(self) -> list[Document]:
        with self.db.session() as session:
            faults = _active_faults(session)
            return [_with_state(doc, faults) for doc in ELEMENTS.all(session)]

    def element(self, element_id: str) -> Document:
        with self.db.session() as session:
            return _with_state(_element(session, element_id), _active_faults(session))

    # --- configuration ---------------------------------------------------------------------------

    def configure(
        self, element_id: str, service_id: str, config: ElementConfiguration
    ) -> tuple[Document, bool]:
        with self.db.session() as session:
            element = self._element(session, element_id)
            if _fault_active(session, f"element:{element_id}"):
                raise DriverError(503, f"element {element_id} is unreachable", "elementUnreachable")
            _check_configuration(element, config)
            key = f"{element_id}/{service_id}"
            current = CONFIGURATIONS.find(session, key)
            wanted = {"element": element_id, "serviceId": service_id, **config.model_dump()}
            if current is not None and current["state"] == CONFIGURED and _same(current, wanted):
                return current, False
            doc = {"id": key, "state": CONFIGURED, **wanted, "configuredAt": now_iso()}
            for port in doc["uniPorts"]:
                cir = port["ingressBandwidthProfile"]["cir"]
                port["traffic"] = {
                    "offeredBps": int(cir * DEFAULT_LOAD),
                    "frameBytes": DEFAULT_FRAME_BYTES,
                    "since": doc["configuredAt"],
                }
            if current is None:
                CONFIGURATIONS.add(session, doc, parent_id=element_id)
            else:
                CONFIGURATIONS.put(session, doc)
        if self.commit_latency_s:
            time.sleep(self.commit_latency_s)
        return doc, True

    def unconfigure(self, element_id: str, service_id: str) -> None:
        with self.db.session() as session:
            self._element(session, element_id)
            current = CONFIGURATIONS.find(session, f"{element_id}/{service_id}")
            if current is not None and current["state"] == CONFIGURED:
                CONFIGURATIONS.put(session, {**current, "state": REMOVED, "removedAt": now_iso()})

    def _element(self, session: Session, element_id: str) -> Document:
        """The element's inventory (404 if there is no such element), read once per element."""
        if element_id not in self._inventory:
            self._inventory[element_id] = _element(session, element_id)
        return self._inventory[element_id]

    def configurations(self, element_id: str) -> list[Document]:
        with self.db.session() as session:
            _element(session, element_id)
            return [c for c in CONFIGURATIONS.children(session, element_id) if c["state"] == CONFIGURED]

    def configuration(self, element_id: str, service_id: str) -> Document:
        with self.db.session() as session:
            doc = CONFIGURATIONS.find(session, f"{element_id}/{service_id}")
            if doc is None or doc["state"] != CONFIGURED:
                raise DriverError(404, f"element {element_id} holds no configuration of service {service_id}")
            return doc

    def set_traffic(self, element_id: str, service_id: str, port: str, traffic: Traffic) -> Document:
        with self.db.session() as session:
            doc = CONFIGURATIONS.find(session, f"{element_id}/{service_id}")
            uni = next((p for p in (doc or {}).get("uniPorts", []) if p["port"] == port), None)
            if doc is None or doc["state"] != CONFIGURED or uni is None:
                raise DriverError(404, f"{element_id}/{port} carries no service {service_id}")
            uni["traffic"] = {**traffic.model_dump(), "since": traffic.since or now_iso()}
            return CONFIGURATIONS.put(session, doc)

    # --- counters and alarms ---------------------------------------------------------------------

    def counters(self, queries: list[CounterQuery]) -> list[Document]:
        now = now_iso()
        result = []
        with self.db.session() as session:
            for query in queries:
                _element(session, query.element)
                for config in CONFIGURATIONS.children(session, query.element):
                    if config["state"] != CONFIGURED or query.serviceId not in (None, config["serviceId"]):
                        continue
                    for port in config["uniPorts"]:
                        if query.port in (None, port["port"]):
                            result.append(_port_counters(config, port, now))
        return result

    def alarms(self, element_id: str | None, state: str | None) -> list[Document]:
        with self.db.session() as session:
            return stored_alarms(session, element_id, state)

    # --- faults and impairments ------------------------------------------------------------------

    def inject_fault(self, kind: FaultKind, target: str) -> Document:
        with self.db.session() as session:
            _check_fault_target(session, kind, target)
            target = _normalise(kind, target)
            fault_id = f"{kind}:{target}"
            current = FAULTS.find(session, fault_id)
            fault = {"id": fault_id, "kind": kind, "target": target, "state": ACTIVE}
            if current is None:
                FAULTS.add(session, fault)
            elif current["state"] != ACTIVE:
                FAULTS.put(session, fault)
            deliveries = raise_alarm(
                session, fault_id, _CAUSES[kind], "MAJOR" if kind == "port" else "CRITICAL"
            )
            alarm = raised_alarm(session, fault_id)
        dispatch_and_wait(deliveries)
        return alarm or {}

    def clear_fault(self, kind: FaultKind, target: str) -> None:
        with self.db.session() as session:
            fault_id = f"{kind}:{_normalise(kind, target)}"
            current = FAULTS.find(session, fault_id)
            if current is not None and current["state"] == ACTIVE:
                FAULTS.put(session, {**current, "state": CLEARED})
            deliveries = clear_alarm(session, fault_id)
        dispatch_and_wait(deliveries)

    def impair(self, target: str, impairment: Impairment) -> Document:
        with self.db.session() as session:
            doc = {"id": target, "state": ACTIVE, **impairment.model_dump()}
            if IMPAIRMENTS.find(session, target) is None:
                return IMPAIRMENTS.add(session, doc)
            return IMPAIRMENTS.put(session, doc)

    def set_commit_latency(self, seconds: float) -> None:
        self.commit_latency_s = seconds

    def clear_impairment(self, target: str) -> None:
        with self.db.session() as session:
            current = IMPAIRMENTS.find(session, target)
            if current is not None and current["state"] == ACTIVE:
                IMPAIRMENTS.put(session, {**current, "state": CLEARED})

    # --- tests and OAM ---------------------------------------------------------------------------

    def run_test(self, request: ServiceTestRequest) -> Document:
        with self.db.session() as session:
            path = _trace(session, request.serviceId, request.aEnd, request.zEnd)
            a_config = CONFIGURATIONS.get(session, f"{request.aEnd.element}/{request.serviceId}")
        uni = next(p for p in a_config["uniPorts"] if p["port"] == request.aEnd.port)
        profile = BandwidthProfile.from_wire(uni["ingressBandwidthProfile"])
        result = oam.activation_test(
            profile, request.cir, request.eir, path, request.acceptance, request.serviceId
        )
        return service_test_answer(request, result)

    def measure(self, service_id: str, a_end: ServicePort, z_end: ServicePort) -> Document:
        with self.db.session() as session:
            path = _trace(session, service_id, a_end, z_end)
        return {
            **oam.measure(path, f"{service_id}@{now_iso()}").wire(),
            "path": list(path.elements),
            "time": now_iso(),
        }

    def start_oam_session(self, session_id: str, request: OamSessionRequest) -> Document:
        """Open the session (PUT: idempotent); a new measurement profile re-configures it. The profile
        is persisted with the session: reading intervals (also after a restart) needs only the id."""
        profiles = None if request.profile is None else [p.model_dump() for p in request.profile]
        with self.db.session() as session:
            current = OAM_SESSIONS.find(session, session_id)
            if current is not None:
                if profiles is None or current.get("profile") == profiles:
                    return current
                return OAM_SESSIONS.put(session, {**current, "profile": profiles})
            doc: Document = {
                "id": session_id,
                "state": ACTIVE,
                "serviceId": request.serviceId,
                "aEnd": request.aEnd.model_dump(),
                "zEnd": request.zEnd.model_dump(),
                "startedAt": now_iso(),
            }
            if profiles is not None:
                doc["profile"] = profiles
            return OAM_SESSIONS.add(session, doc)

    def oam_sessions(self) -> list[Document]:
        with self.db.session() as session:
            return OAM_SESSIONS.all(session)

    def oam_session(self, session_id: str) -> Document:
        with self.db.session() as session:
            doc = OAM_SESSIONS.get(session, session_id)
        measurement = self.measure(doc["serviceId"], ServicePort(**doc["aEnd"]), ServicePort(**doc["zEnd"]))
        return {**doc, "measurement": measurement}

    def oam_intervals(self, session_id: str, since: int | None) -> Document:
        """The session's completed measurement intervals that start at or after ``since``, per CoS.

        The model keeps no history: an interval is synthesised, when read, from the network as it is at
        the read (path, faults, impairments) under the session's current profile — like a measurement
        point that closes its intervals late. At most ``OAM_HISTORY`` intervals back, none before both
        ends held the service."""
        now = time.time()
        with self.db.session() as session:
            doc = OAM_SESSIONS.get(session, session_id)
            path = _trace(session, doc["serviceId"], ServicePort(**doc["aEnd"]), ServicePort(**doc["zEnd"]))
            # OAM frames flow once both ends hold the service, before anyone reads the session.
            began = max(
                parse(
                    CONFIGURATIONS.get(session, f"{doc[end]['element']}/{doc['serviceId']}")["configuredAt"]
                )
                for end in ("aEnd", "zEnd")
            ).timestamp()
        found: list[Document] = []
        for profile in doc.get("profile") or []:
            step = int(profile["intervalS"])
            last = int(now // step) * step - step  # the latest interval that has ended
            first = max(math.ceil(began / step) * step, last - (OAM_HISTORY - 1) * step)
            if since is not None:
                first = max(first, -(-since // step) * step)
            seed = f"{session_id}:{profile['cosName']}"
            records = oam.intervals(path, seed, profile, range(first, last + 1, step))
            found += [{"cosName": profile["cosName"], **record} for record in records]
        return intervals_answer(doc, found)


def intervals_answer(session_doc: Document, intervals: list[Document]) -> Document:
    """What ADAGIO answers for a session's intervals: them and the profiles they were measured by."""
    return {
        "sessionId": session_doc["id"],
        "profile": session_doc.get("profile") or [],
        "interval": intervals,
    }


def _element(session: Session, element_id: str) -> Document:
    doc = ELEMENTS.find(session, element_id)
    if doc is None:
        raise DriverError(404, f"element {element_id} does not exist")
    return doc


def _fault_active(session: Session, fault_id: str) -> bool:
    """One fault by its key: a configuration call reads only its element's, not every fault."""
    fault = FAULTS.find(session, fault_id)
    return fault is not None and fault["state"] == ACTIVE


def _active_faults(session: Session) -> set[str]:
    return {f["id"] for f in FAULTS.all(session) if f["state"] == ACTIVE}


def _with_state(element: Document, faults: set[str]) -> Document:
    down = f"element:{element['id']}" in faults
    ports = [
        {
            **p,
            "operationalState": "DISABLED"
            if down or f"port:{element['id']}/{p['id']}" in faults
            else "ENABLED",
        }
        for p in element["ports"]
    ]
    return {**element, "ports": ports, "operationalState": "DISABLED" if down else "ENABLED"}


def _normalise(kind: FaultKind, target: str) -> str:
    return link_id(*target.split("--", 1)) if kind == "link" else target


def _check_fault_target(session: Session, kind: FaultKind, target: str) -> None:
    """A fault names an element, port or link that exists (404 otherwise)."""
    if kind == "element":
        _element(session, target)
        return
    if kind == "port":
        element_id, _, port = target.partition("/")
        if not any(p["id"] == port for p in _element(session, element_id)["ports"]):
            raise DriverError(404, f"port {target} does not exist")
        return
    a, _, z = target.partition("--")
    if not any(link["peer"] == z for link in _element(session, a)["links"]):
        raise DriverError(404, f"link {target} does not exist")


def _check_configuration(element: Document, config: ElementConfiguration) -> None:
    unis = {p["id"] for p in element["ports"] if p["kind"] == "UNI"}
    ennis = {p["id"] for p in element["ports"] if p["kind"] == "ENNI"}
    peers = {link["peer"] for link in element["links"]}
    for port in config.uniPorts:
        if port.port in ennis and port.sVlanId is None:
            raise DriverError(
                422, f"{element['id']}/{port.port} is an ENNI: an S-VLAN ID is needed", "invalidValue"
            )
        if port.port not in unis | ennis:
            raise DriverError(422, f"{element['id']} has no UNI port {port.port}", "invalidValue")
    for peer in config.nniPeers:
        if peer not in peers:
            raise DriverError(422, f"{element['id']} has no link to {peer}", "invalidValue")


def _same(current: Document, wanted: Document) -> bool:
    """Whether ``current`` already holds ``wanted`` (the traffic model is the simulator's, not ICM's)."""
    ports = [{k: v for k, v in p.items() if k != "traffic"} for p in current["uniPorts"]]
    return all(current[k] == wanted[k] for k in ("vni", "nniPeers")) and ports == wanted["uniPorts"]


def _port_counters(config: Document, port: Document, now: str) -> Document:
    traffic = port["traffic"]
    seconds = (parse(now) - parse(traffic["since"])).total_seconds()
    profile = BandwidthProfile.from_wire(port["ingressBandwidthProfile"])
    count = police_period(profile, traffic["offeredBps"], traffic["frameBytes"], seconds)
    return {
        "element": config["element"],
        "serviceId": config["serviceId"],
        "port": port["port"],
        "periodStart": traffic["since"],
        "periodEnd": now,
        "ingress": count.wire(),
    }


def _trace(session: Session, service_id: str, a_end: ServicePort, z_end: ServicePort) -> oam.PathModel:
    """Follow the service's configuration from the A-end element to the Z-end one, as frames would.

    A neighbour forwards only if it holds the service and names this element back; an element without
    the configuration breaks the path (a 409: the service is not fully configured).
    """
    configs: dict[str, Document | None] = {}

    def held(element: str) -> Document | None:
        # Read element by element along the path: the cost follows the path, not the number of services.
        if element not in configs:
            doc = CONFIGURATIONS.find(session, f"{element}/{service_id}")
            configs[element] = doc if doc is not None and doc["state"] == CONFIGURED else None
        return configs[element]

    ends = [(end, held(end.element)) for end in (a_end, z_end)]
    for end, config in ends:
        if config is None or not any(p["port"] == end.port for p in config["uniPorts"]):
            raise DriverError(
                409, f"{end.element}/{end.port} holds no configuration of service {service_id}", "conflict"
            )
    previous: dict[str, str | None] = {a_end.element: None}
    queue = deque([(a_end.element, ends[0][1])])
    while queue:
        current, config = queue.popleft()
        for peer in config["nniPeers"] if config else ():
            peer_config = held(peer)
            if peer_config is not None and current in peer_config["nniPeers"] and peer not in previous:
                previous[peer] = current
                queue.append((peer, peer_config))
    if z_end.element not in previous:
        raise DriverError(
            409, f"service {service_id} does not reach {z_end.element} from {a_end.element}", "conflict"
        )
    hops: list[str] = []
    node: str | None = z_end.element
    while node is not None:
        hops.insert(0, node)
        node = previous[node]
    return _path_model(session, hops, a_end, z_end)


def _path_model(session: Session, hops: list[str], a_end: ServicePort, z_end: ServicePort) -> oam.PathModel:
    faults = _active_faults(session)
    impairments = {i["id"]: i for i in IMPAIRMENTS.all(session) if i["state"] == ACTIVE}
    links = [link_id(a, z) for a, z in itertools.pairwise(hops)]
    distance = 0.0
    for a, z in itertools.pairwise(hops):
        distance += next(link["distanceKm"] for link in _element(session, a)["links"] if link["peer"] == z)
    down = (
        any(f"element:{e}" in faults for e in hops)
        or any(f"link:{link}" in faults for link in links)
        or any(f"port:{end.element}/{end.port}" in faults for end in (a_end, z_end))
    )
    delivered = 0.0 if down else 1.0
    extra = 0.0
    for target in hops + links:
        if target in impairments:
            delivered *= 1 - impairments[target]["lossRatio"]
            extra += impairments[target]["extraDelayMs"]
    return oam.PathModel(tuple(hops), distance, extra, 1 - delivered)
