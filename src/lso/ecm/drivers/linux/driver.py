"""The ``linux`` driver: the ADAGIO contract of ``sim``, with the configuration applied to the kernel.

The persisted model is sim's, unchanged (``SimDriver`` keeps the inventory, the configuration per
element + service, faults and OAM sessions in the database and answers the idempotence questions), so
both drivers agree on what an element holds; this driver then makes the kernel hold it. The database is
written first: a crash between the two leaves the kernel behind the model, and :meth:`start` (run on
every start, including after ``kill -9``) rebuilds what is missing and removes what is stale.

What the model only computed, this driver measures: counters are read from the kernel (the policer's
per-colour counters and the interfaces' statistics), measurements and activation tests send real frames
between the customer-edge hosts, and faults take real interfaces down — the link monitor, not this code,
sees them and raises the alarms ICM reroutes on.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

from lso.db import Database
from lso.ecm import alarms, drivers
from lso.ecm.bandwidth import ColourCount
from lso.ecm.drivers import BandwidthProfileFlow, Document, DriverError, ServicePort, sim
from lso.ecm.drivers.linux import probe, sat
from lso.ecm.drivers.linux.events import LinkMonitor
from lso.ecm.drivers.linux.monitoring import PerformanceMonitor
from lso.ecm.drivers.linux.netns import Kernel
from lso.ecm.drivers.linux.plane import DataPlane, EnniPeer, Topology, ingress_ifname, is_enni, uni_ifname
from lso.ecm.drivers.linux.policer import Policer
from lso.mef.dates import now_iso
from lso.mef.notifications import dispatch

# A measurement (and an OAM session's reading) is a short probe run: 100 frames of 200 bytes in 0.2 s.
MEASURE_RATE_BPS = 800_000
MEASURE_FRAME_BYTES = 200
MEASURE_DURATION_S = 0.2
# How long inject_fault waits for the link monitor to raise the fault's alarm.
ALARM_WAIT_S = 2.0
# How long an activation test waits for the test set before ADAGIO answers 503 (the caller retries): a
# test runs about 10 s (sat.py), and wait + test must stay within the 30 s entity clients wait for an
# answer, or the caller would give up on a test that still runs and holds the test set.
TEST_SET_WAIT_S = 12.0
_CAUSES = {"element": "equipmentFailure", "port": "lossOfSignal", "link": "linkDown"}


class LinuxDriver:
    """Elements as network namespaces of this host, behind ADAGIO."""

    def __init__(
        self,
        db: Database,
        prefix: str,
        dispatch: Callable[[list[str]], Any] = dispatch,
        ennis: dict[tuple[str, str], EnniPeer] | None = None,
    ) -> None:
        self.db = db
        self.prefix = prefix
        self.ennis = ennis or {}  # the partner domains' side of our ENNIs (plane.enni_peers)
        self.model = sim.SimDriver(db)
        self.kernel = Kernel(prefix)
        self.policer = Policer(prefix)
        self._dispatch = dispatch
        self._plane: DataPlane | None = None
        self._monitor: LinkMonitor | None = None
        self.performance = PerformanceMonitor()
        # The PM sessions (with their profiles) by service, as persisted: loaded at start, kept by
        # start_oam_session, so configuring a service's ends (re)starts its measurement without a read.
        self._sessions: dict[str, dict[str, Document]] = {}
        self._lock = threading.Lock()
        # What each element holds per service, as persisted (loaded at start, kept by configure and
        # unconfigure, the only writers): spares a database read per call.
        self._held: dict[tuple[str, str], Document] = {}
        # One activation test at a time: a test generates up to 125 % of CIR+EIR from one process, and two
        # at once on a small host would starve each other (and fail services that are fine). A network has
        # one test set per domain here, as a lab does; tests queue for it, but only for TEST_SET_WAIT_S:
        # a caller waiting longer would time out (entity clients wait 30 s) while its test still ran.
        self._test_set = threading.Lock()

    # --- life cycle --------------------------------------------------------------------------------

    def start(self) -> None:
        """Make the kernel hold the persisted configuration (rebuild what is missing, remove the rest)."""
        with self.db.session() as session:
            elements = sim.ELEMENTS.all(session)
            configurations = [c for c in sim.CONFIGURATIONS.all(session) if c["state"] == sim.CONFIGURED]
            faults = {f["id"] for f in sim.FAULTS.all(session) if f["state"] == sim.ACTIVE}
        self._held = {(c["element"], c["serviceId"]): c for c in configurations}
        plane = DataPlane(self.kernel, Topology.of(self.prefix, elements, self.ennis))
        self.kernel.call(plane.reconcile, configurations, faults)
        self._plane = plane
        for element in plane.topology.unis:  # each UNI element's policer program, ahead of its services
            self.policer.prepare(plane.topology.element_ns(element))
        self.kernel.call(plane.keep_hosts, self.policer.hook)  # a UNI's filter goes on with its host, ahead
        for config in configurations:
            self.kernel.call(self._police, config)
        for doc in self.model.oam_sessions():
            self._sessions.setdefault(doc["serviceId"], {})[doc["id"]] = doc
        self.performance.start()
        for sessions in self._sessions.values():
            for doc in sessions.values():
                self._measure_session(doc)

    def watch(self) -> None:
        """Start the link monitor (once durable notifications run: its alarms are dispatched at once)."""
        self._monitor = LinkMonitor(self.plane, self._link_changed)
        self._monitor.start()

    def stop(self) -> None:
        """Stop watching and release the netlink sessions; the namespaces stay (a restart finds them)."""
        if self._monitor is not None:
            self._monitor.stop()
        self.performance.stop()
        self.kernel.close()
        self.policer.close()

    @property
    def plane(self) -> DataPlane:
        if self._plane is None:
            raise DriverError(503, "the linux data plane has not started", "serviceUnavailable")
        return self._plane

    # --- inventory and configuration -----------------------------------------------------------------

    def elements(self) -> list[Document]:
        return self.model.elements()

    def element(self, element_id: str) -> Document:
        return self.model.element(element_id)

    def configure(
        self, element_id: str, service_id: str, config: drivers.ElementConfiguration
    ) -> tuple[Document, bool]:
        with self._lock:
            previous = self._held.get((element_id, service_id))
            wanted = {"element": element_id, **config.model_dump()}
            # The kernel is made to hold it while the model is written, not after (the kernel's share is
            # mostly the kernel's, the model's mostly Python and SQLite): a crash leaves either ahead, and
            # start() reconciles both ways. What the model refuses is taken back off the kernel.
            applying = self.kernel.submit(self._apply, element_id, wanted, previous, report=False)
            try:
                doc, changed = self.model.configure(element_id, service_id, config)
            except Exception:
                with contextlib.suppress(Exception):
                    applying.result()
                self.kernel.call(self._restore, element_id, wanted, previous)
                raise
            self._held[(element_id, service_id)] = doc
            applying.result()
        if previous is None:  # the service reached this element: its PM sessions may now have both ends
            for session_doc in list(self._sessions.get(service_id, {}).values()):
                self._measure_session(session_doc)
        return doc, changed

    def unconfigure(self, element_id: str, service_id: str) -> None:
        """The service stops forwarding before this returns; its interfaces and policers are removed right
        after, on the kernel thread (anything asked of the kernel later waits for that)."""
        with self._lock:
            previous = self._held.get((element_id, service_id))
            if previous is None:
                self.model.unconfigure(element_id, service_id)  # nothing in the kernel: the model decides
                return
            # As in configure, the kernel stops the service while the model is written; should the model
            # fail, the service forwards again before the error is answered.
            isolating = self.kernel.submit(self.plane.isolate, element_id, previous["vni"], report=False)
            try:
                self.model.unconfigure(element_id, service_id)
            except Exception:
                with contextlib.suppress(Exception):
                    isolating.result()
                self.kernel.call(self.plane.isolate, element_id, previous["vni"], False)
                raise
            self._held.pop((element_id, service_id), None)
            for session_doc in list(self._sessions.get(service_id, {}).values()):
                if element_id in (session_doc["aEnd"]["element"], session_doc["zEnd"]["element"]):
                    self.performance.forget(session_doc["id"])
            isolating.result()
            self.kernel.submit(self._tear_down, element_id, previous)

    def _apply(self, element_id: str, doc: Document, previous: Document | None) -> None:
        """Make the kernel hold ``doc`` instead of ``previous`` (kernel thread)."""
        if previous is not None and previous["vni"] != doc["vni"]:
            self.plane.remove(element_id, previous["vni"])
        elif previous is not None:  # ports it leaves, OVC End Points whose S-VLAN (so their VXLAN) changes
            wanted = {(port["port"], port.get("sVlanId")) for port in doc["uniPorts"]}
            left = [
                port for port in previous["uniPorts"] if (port["port"], port.get("sVlanId")) not in wanted
            ]
            self._unpolice(element_id, previous["vni"], left)
        self.plane.apply(element_id, doc)
        self._police(doc)

    def _restore(self, element_id: str, refused: Document, previous: Document | None) -> None:
        """Take a configuration the model refused back off the kernel (kernel thread)."""
        if previous is None or previous["vni"] != refused["vni"]:
            self._tear_down(element_id, refused)
        if previous is not None:
            self._apply(element_id, previous, None)

    def _tear_down(self, element_id: str, previous: Document) -> None:
        self._unpolice(element_id, previous["vni"], previous["uniPorts"])
        self.plane.remove(element_id, previous["vni"])

    def _unpolice(self, element_id: str, vni: int, ports: list[Document]) -> None:
        """Detach the policers of service ``vni``'s ``ports`` (kernel thread)."""
        ns = self.plane.ns(element_id)
        for port in ports:
            ifname = ingress_ifname(vni, port["port"])
            self.policer.detach(ns.name, ifname, ns.index_of(ifname))

    def configurations(self, element_id: str) -> list[Document]:
        return self.model.configurations(element_id)

    def configuration(self, element_id: str, service_id: str) -> Document:
        return self.model.configuration(element_id, service_id)

    def _police(self, config: Document) -> None:
        """Attach (or change) the ingress policers of ``config`` (kernel thread: the interfaces' indexes
        come from its cache)."""
        ns = self.plane.ns(config["element"])
        for port in config["uniPorts"]:
            profile = BandwidthProfileFlow(**port["ingressBandwidthProfile"])
            ifname = ingress_ifname(config["vni"], port["port"])
            self.policer.attach(ns.name, ifname, profile, ns.index_of(ifname))

    # --- counters and alarms -------------------------------------------------------------------------

    def counters(self, queries: list[drivers.CounterQuery]) -> list[Document]:
        """One statistics dump and one policer dump per element asked about, whatever the query count."""
        now = now_iso()
        result: list[Document] = []
        readings: dict[str, tuple[dict[str, dict[str, int]], dict[str, ColourCount]]] = {}
        for query in queries:
            for config in self.model.configurations(query.element):
                if query.serviceId not in (None, config["serviceId"]):
                    continue
                if query.element not in readings:
                    ns = self.plane.topology.element_ns(query.element)
                    stats = self.kernel.call(self.plane.kernel.statistics, self.plane.ns(query.element))
                    readings[query.element] = (stats, self.policer.counters(ns))
                stats, colours = readings[query.element]
                for port in config["uniPorts"]:
                    if query.port in (None, port["port"]):
                        ifname = ingress_ifname(config["vni"], port["port"])
                        result.append(
                            _uni_counters(config, port["port"], stats.get(ifname), colours.get(ifname), now)
                        )
        return result

    def alarms(self, element_id: str | None, state: str | None) -> list[Document]:
        return self.model.alarms(element_id, state)

    # --- faults and impairments ------------------------------------------------------------------------

    def inject_fault(self, kind: drivers.FaultKind, target: str) -> Document:
        """Take the element, port or link really down; the link monitor raises the alarm, returned here."""
        target = sim.link_id(*target.split("--", 1)) if kind == "link" else target
        source = f"{kind}:{target}"
        self._record_fault(kind, target, sim.ACTIVE)
        acted = self.kernel.call(self.plane.set_fault, kind, target, True)
        if kind == "element" or not acted:
            # No interface reports an element as a whole (its neighbours see their links go down), nor
            # a UNI port no service uses: those alarms are raised here.
            self._report(source, up=False)
        return self._raised_alarm(source)

    def clear_fault(self, kind: drivers.FaultKind, target: str) -> None:
        target = sim.link_id(*target.split("--", 1)) if kind == "link" else target
        self._record_fault(kind, target, sim.CLEARED)
        acted = self.kernel.call(self.plane.set_fault, kind, target, False)
        with self.db.session() as session:
            others = [f for f in sim.FAULTS.all(session) if f["state"] == sim.ACTIVE]
        for fault in others:  # an element coming back leaves its separately failed links and ports down
            self.kernel.call(self.plane.set_fault, fault["kind"], fault["target"], True)
        if kind == "element" or not acted:
            self._report(f"{kind}:{target}", up=True)

    def impair(self, target: str, impairment: drivers.Impairment) -> Document:
        raise DriverError(
            501,
            "the linux driver cannot impair links: this kernel has no netem (extra delay and loss)",
            "notImplemented",
        )

    def clear_impairment(self, target: str) -> None:
        """Nothing is ever impaired on this driver, so there is nothing to clear."""

    def set_commit_latency(self, seconds: float) -> None:
        self.model.set_commit_latency(seconds)

    def set_traffic(self, element_id: str, service_id: str, port: str, traffic: drivers.Traffic) -> Document:
        raise DriverError(
            501,
            "the linux driver counts real frames: send traffic from the customer-edge hosts instead",
            "notImplemented",
        )

    def _record_fault(self, kind: str, target: str, state: str) -> None:
        fault = {"id": f"{kind}:{target}", "kind": kind, "target": target, "state": state}
        with self.db.session() as session:
            current = sim.FAULTS.find(session, fault["id"])
            if current is None:
                if state == sim.ACTIVE:
                    sim.FAULTS.add(session, fault)
            elif current["state"] != state:
                sim.FAULTS.put(session, fault)

    def _link_changed(self, source: str, up: bool) -> None:
        self._report(source, up)

    def _report(self, source: str, up: bool) -> None:
        kind = source.partition(":")[0]
        with self.db.session() as session:
            if up:
                deliveries = alarms.clear_alarm(session, source)
            else:
                severity = "MAJOR" if kind == "port" else "CRITICAL"
                deliveries = alarms.raise_alarm(session, source, _CAUSES[kind], severity)
        self._dispatch(deliveries)

    def _raised_alarm(self, source: str) -> Document:
        """The alarm the monitor raised for a fault just injected (it sees the netlink event in ms)."""
        deadline = time.monotonic() + ALARM_WAIT_S
        while True:
            with self.db.session() as session:
                alarm = alarms.raised_alarm(session, source)
            if alarm is not None:
                return alarm
            if time.monotonic() > deadline:
                raise DriverError(504, f"the element reported no alarm for {source}", "timeout")
            time.sleep(0.01)

    # --- tests and OAM ---------------------------------------------------------------------------------

    def endpoint(self, end: ServicePort, service_id: str | None = None) -> probe.Endpoint:
        """The customer-edge host behind a UNI; at an ENNI, the test head of ``service_id``'s OVC End
        Point there (plane.py)."""
        try:
            netns, address = self.plane.topology.host(
                end.element, end.port, self._held.get((end.element, service_id or ""))
            )
        except KeyError as exc:
            raise DriverError(409, str(exc.args[0]), "conflict") from exc
        return probe.Endpoint(self.kernel.named(netns), address)

    def run_test(self, request: drivers.ServiceTestRequest) -> Document:
        self.model.measure(request.serviceId, request.aEnd, request.zEnd)  # 409 unless the ends connect
        # The test set sends from the A end; from a UNI's CE when there is one, so the frames go through
        # its ingress policer (an ENNI's test head is a port of the service's bridge, policed nowhere).
        a, z = request.aEnd, request.zEnd
        if is_enni(a.port) and not is_enni(z.port):
            a, z = z, a
        ns = self.plane.topology.element_ns(a.element)
        ifname = uni_ifname(a.port)

        def green_octets() -> int:
            counters = self.policer.counters(ns).get(ifname)
            return counters.green_octets if counters else 0

        if not self._test_set.acquire(timeout=TEST_SET_WAIT_S):
            raise DriverError(
                503, "the domain's test set is busy with another activation test; retry", "testSetBusy"
            )
        try:
            result = sat.activation_test(
                self.endpoint(a, request.serviceId),
                self.endpoint(z, request.serviceId),
                request.cir,
                request.eir,
                request.acceptance,
                green=None if is_enni(a.port) else green_octets,
            )
        finally:
            self._test_set.release()
        return drivers.service_test_answer(request, result)

    def measure(self, service_id: str, a_end: ServicePort, z_end: ServicePort) -> Document:
        # The model traces the path the configuration sets up (409 when the ends are not connected).
        path = self.model.measure(service_id, a_end, z_end)["path"]
        run = probe.run_probe(
            self.endpoint(a_end, service_id),
            self.endpoint(z_end, service_id),
            MEASURE_RATE_BPS,
            MEASURE_FRAME_BYTES,
            MEASURE_DURATION_S,
        )
        return {
            "frameDelayMs": round(run.delay.mean_ms, 4) if run.delay else None,
            "frameDelayVariationMs": round(run.delay_variation_ms, 4),
            "frameLossRatio": round(run.loss_ratio, 6),
            "path": path,
            "time": now_iso(),
        }

    def start_oam_session(self, session_id: str, request: drivers.OamSessionRequest) -> Document:
        """The model persists the session and its profiles; frames flow once both ends hold the service."""
        doc = self.model.start_oam_session(session_id, request)
        self._sessions.setdefault(doc["serviceId"], {})[doc["id"]] = doc
        self._measure_session(doc)
        return doc

    def oam_intervals(self, session_id: str, since: int | None) -> Document:
        """The intervals the session's probe frames really measured (``monitoring.py``)."""
        with self.db.session() as session:
            doc = sim.OAM_SESSIONS.get(session, session_id)
        return sim.intervals_answer(doc, self.performance.intervals(session_id, since))

    def _measure_session(self, doc: Document) -> None:
        ends = [ServicePort(**doc[end]) for end in ("aEnd", "zEnd")]
        if doc.get("profile") and all(self._holds_port(doc["serviceId"], end) for end in ends):
            a, z = (self.endpoint(end, doc["serviceId"]) for end in ends)
            self.performance.watch(doc["id"], a, z, doc["profile"])

    def _holds_port(self, service_id: str, end: ServicePort) -> bool:
        config = self._held.get((end.element, service_id))
        return config is not None and any(p["port"] == end.port for p in config["uniPorts"])

    def oam_session(self, session_id: str) -> Document:
        with self.db.session() as session:
            doc = sim.OAM_SESSIONS.get(session, session_id)
        measurement = self.measure(doc["serviceId"], ServicePort(**doc["aEnd"]), ServicePort(**doc["zEnd"]))
        return {**doc, "measurement": measurement}


def _uni_counters(
    config: Document, port: str, stats: dict[str, int] | None, colours: ColourCount | None, now: str
) -> Document:
    """A UNI's counters: ingress (from the customer) by colour from the policer, egress from the veth.

    The UNI veth's receive side is the customer's ingress and its transmit side the egress towards the
    customer; ``approximate`` says the colours come from the nftables fallback, not the exact policer.
    """
    stats = stats or {}
    colours = colours or ColourCount()
    return {
        "element": config["element"],
        "serviceId": config["serviceId"],
        "port": port,
        "periodStart": config["configuredAt"],
        "periodEnd": now,
        "ingress": {
            **colours.wire(),
            "frames": stats.get("rx_packets", 0),
            "octets": stats.get("rx_bytes", 0),
        },
        "egress": {"frames": stats.get("tx_packets", 0), "octets": stats.get("tx_bytes", 0)},
        "approximate": colours.approximate,
    }
