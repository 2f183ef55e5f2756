"""What the kernel must hold for the elements' configuration, and making it so.

Names and addresses are derived, never stored: from the domain's prefix, the inventory (elements and links
sorted by id, so indexes are stable across restarts) and the configuration. Inside an element namespace:

- ``l<link>``: the veth of a link (MTU 9000 so VXLAN fits), ``172.16.x.y/30`` — the lower element id gets
  ``.1``, the other ``.2`` of the link's /30;
- ``u<N>``: UNI ``uni-N``, a veth whose far end is ``eth0`` of namespace ``<prefix>-ce-<element>-uni-N``,
  the customer's host, at ``10.<element>.<N/256>.<N%256>/8`` — an EVC is its own broadcast domain, so CE
  addresses only need to differ between the elements of one service;
- ``b<vni>``: the service's bridge; ``x<vni>-<link>``: its VXLAN to the neighbour over that link, UDP port
  4789 + link index (the kernel allows one VXLAN device per VNI and port in a namespace);
- ``n<N>``: ENNI ``enni-N``, a veth whose far end is the partner domain's ENNI in the partner's element
  namespace (:class:`EnniPeer`), ``172.31.x.y/30`` from a hash of both ends; ``x<vni>-n<N>``: an OVC End
  Point on it, a VXLAN whose VNI is the End Point's S-VLAN ID, UDP port 4789 (see docs/linux-driver.md:
  this kernel's bridge has no VLAN filtering, so the S-VLAN cannot be a real tag); ``t<N>.<S-VLAN>``: the
  End Point's test head, a host like a CE (``<prefix>-ce-<element>-enni-N.<S-VLAN>``, address
  ``10.<element>.<128 + S/256>.<S%256>``) that activation tests and measurements to the ENNI reach.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from lso.ecm.drivers import Document
from lso.ecm.drivers.linux import mounts
from lso.ecm.drivers.linux.hosts import Seat
from lso.ecm.drivers.linux.netns import IFF_LOWER_UP, IFF_UP, Kernel, Namespace

UNDERLAY = ipaddress.IPv4Address("172.16.0.0")
ENNI_UNDERLAY = ipaddress.IPv4Address("172.31.0.0")
VXLAN_PORT = 4789  # + link index on links; the ENNI's OVCs use it as is, on both sides
LINK_MTU = 9000
CE_IFNAME = "eth0"
CE_PREFIXLEN = 8  # every CE host is in 10.0.0.0/8 (ce_address)
# Customer-edge hosts kept ready in each element with UNIs (hosts.py), refilled as they are taken.
READY_HOSTS = 4


def prefix_of(data_dir: Path) -> str:
    """The name prefix of everything a domain creates in the kernel (unique per data directory)."""
    return "lso" + hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:4]


def uni_ifname(port: str) -> str:
    return "u" + port.removeprefix("uni-")


def is_enni(port: str) -> bool:
    return port.startswith("enni-")


def enni_ifname(port: str) -> str:
    return "n" + port.removeprefix("enni-")


def test_head(port: str, s_vlan: int) -> str:
    """The host label of an OVC End Point's test head: ``enni-N.<S-VLAN>``."""
    return f"{port}.{s_vlan}"


def host_labels(config: Document) -> list[str]:
    """The hosts a configuration has on its element: a CE host per UNI, a test head per OVC End Point."""
    return [
        test_head(p["port"], p["sVlanId"]) if is_enni(p["port"]) else p["port"] for p in config["uniPorts"]
    ]


def _port_number(port: str) -> int:
    """``uni-N``'s N: ICM allocates an element's UNIs in this order."""
    return int(port.rpartition("-")[2])


def host_ifname(label: str) -> str:
    """A host's veth in the element: ``u<N>`` for UNI ``uni-N``, ``t<N>.<S>`` for test head ``enni-N.S``."""
    return "t" + label.removeprefix("enni-") if is_enni(label) else uni_ifname(label)


def host_label(ifname: str) -> str | None:
    """The host whose veth ``ifname`` is (None for any other interface)."""
    kinds = {"u": "uni-", "t": "enni-"}
    return kinds[ifname[0]] + ifname[1:] if ifname[:1] in kinds else None


def ingress_ifname(vni: int, port: str) -> str:
    """The interface a service's frames enter the element by at ``port`` (where its policer sits): the
    UNI's veth, or at an ENNI the OVC End Point's VXLAN."""
    return f"x{vni}-{enni_ifname(port)}" if is_enni(port) else uni_ifname(port)


@dataclass(frozen=True)
class EnniPeer:
    """The partner's side of one of our ENNIs: its domain's prefix, its element and ENNI port."""

    prefix: str
    element: str
    port: str

    @property
    def netns(self) -> str:
        return f"{self.prefix}-{self.element}"


def enni_peers(text: str) -> dict[tuple[str, str], EnniPeer]:
    """Setting ``LSO_ENNI_PEERS`` / ``--enni-peer``: ``<element>/<enni port>=<prefix>/<element>/<enni port>``,
    comma-separated, e.g. ``pe-ldn-2/enni-1=lso1a2b/pe-par-1/enni-1``."""
    peers = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        ours, _, theirs = item.partition("=")
        element, _, port = ours.partition("/")
        fields = theirs.split("/")
        if not (element and is_enni(port) and len(fields) == 3 and is_enni(fields[2])):
            raise ValueError(f"ENNI peer {item!r}: expected <element>/enni-N=<prefix>/<element>/enni-M")
        peers[(element, port)] = EnniPeer(*fields)
    return peers


def bridge_ifname(vni: int) -> str:
    return f"b{vni}"


def vxlan_ifname(vni: int, link: int) -> str:
    return f"x{vni}-{link}"


@dataclass(frozen=True)
class Link:
    index: int
    a: str
    z: str

    @property
    def id(self) -> str:
        return f"{self.a}--{self.z}"

    @property
    def ifname(self) -> str:
        return f"l{self.index}"

    def address(self, element: str) -> str:
        return str(UNDERLAY + 4 * self.index + (1 if element == self.a else 2))

    def peer(self, element: str) -> str:
        return self.z if element == self.a else self.a


@dataclass
class Topology:
    """The inventory as the kernel names it."""

    prefix: str
    elements: list[str]
    links: dict[frozenset[str], Link] = field(default_factory=dict)
    ennis: dict[tuple[str, str], EnniPeer] = field(default_factory=dict)
    unis: dict[str, list[str]] = field(default_factory=dict)  # each UNI element's UNIs, by port number

    @classmethod
    def of(
        cls, prefix: str, elements: Iterable[Document], ennis: dict[tuple[str, str], EnniPeer] | None = None
    ) -> Topology:
        docs = sorted(elements, key=lambda e: e["id"])
        ends = sorted({tuple(sorted((e["id"], link["peer"]))) for e in docs for link in e["links"]})
        links = {frozenset((a, z)): Link(i, a, z) for i, (a, z) in enumerate(ends, start=1)}
        unis = {
            e["id"]: sorted((p["id"] for p in e.get("ports", []) if p["kind"] == "UNI"), key=_port_number)
            for e in docs
        }
        return cls(
            prefix, [e["id"] for e in docs], links, dict(ennis or {}), {e: p for e, p in unis.items() if p}
        )

    def element_ns(self, element: str) -> str:
        return f"{self.prefix}-{element}"

    def ce_ns(self, element: str, port: str) -> str:
        return f"{self.prefix}-ce-{element}-{port}"

    def ce_address(self, element: str, port: str) -> str:
        """The address of host ``port`` (a UNI's CE, or a test head ``enni-N.S``, above the UNIs')."""
        number = 128 * 256 + int(port.rpartition(".")[2]) if is_enni(port) else int(port.removeprefix("uni-"))
        return f"10.{self.elements.index(element) + 1}.{number // 256}.{number % 256}"

    def host(self, element: str, port: str, config: Document | None) -> tuple[str, str]:
        """The namespace and address of the host a test or measurement uses at ``port``: the UNI's CE, or
        at an ENNI the test head of the service's OVC End Point (``config``: what the element holds)."""
        label = port
        if is_enni(port):
            end_point = next((p for p in (config or {}).get("uniPorts", []) if p["port"] == port), None)
            if end_point is None:
                raise KeyError(f"{element}/{port} holds no OVC End Point of this service")
            label = test_head(port, end_point["sVlanId"])
        return self.ce_ns(element, label), self.ce_address(element, label)

    def link(self, a: str, z: str) -> Link:
        return self.links[frozenset((a, z))]

    def links_of(self, element: str) -> list[Link]:
        return [link for link in self.links.values() if element in (link.a, link.z)]

    def link_by_ifname(self, ifname: str) -> Link | None:
        return next((link for link in self.links.values() if link.ifname == ifname), None)

    def enni_addresses(self, element: str, port: str) -> tuple[str, str]:
        """Our address and the partner's on the ENNI's veth: both domains derive the same /30 from both
        ends' names, the end named first taking ``.1``."""
        peer = self.ennis.get((element, port))
        ours = f"{self.prefix}/{element}/{port}"
        theirs = f"{peer.prefix}/{peer.element}/{peer.port}" if peer else "no partner"
        ends = sorted((ours, theirs))
        digest = int.from_bytes(hashlib.sha256("|".join(ends).encode()).digest()[:4], "big")
        base = ENNI_UNDERLAY + 4 * (digest % (1 << 14))
        first, second = str(base + 1), str(base + 2)
        return (first, second) if ends[0] == ours else (second, first)


class DataPlane:
    """Applies element configurations to the kernel; every method runs on the kernel thread."""

    def __init__(self, kernel: Kernel, topology: Topology) -> None:
        self.kernel = kernel
        self.topology = topology
        # Interfaces that carry traffic when healthy (namespace, ifname) → alarm source; the link monitor
        # alarms on these only, so an interface being created or removed never looks like a fault.
        self.watched: dict[tuple[str, str], str] = {}

    def ns(self, element: str) -> Namespace:
        return self.kernel.namespace(self.topology.element_ns(element))

    # --- links ---------------------------------------------------------------------------------------

    def build_links(self, down: set[str]) -> None:
        """Every link's veth pair and addresses; links in ``down`` (link ids) are left down."""
        for link in self.topology.links.values():
            a, z = self.ns(link.a), self.ns(link.z)
            if link.ifname not in a.interfaces or link.ifname not in z.interfaces:
                self.kernel.delete(a, link.ifname)
                self.kernel.delete(z, link.ifname)
                self.kernel.add_veth(a, link.ifname, z.name, link.ifname, mtu=LINK_MTU)
            for element, ns in ((link.a, a), (link.z, z)):
                self.kernel.add_address(ns, link.ifname, link.address(element), 30)
            self.kernel.set_up(z, link.ifname, True)
            self.kernel.set_up(a, link.ifname, link.id not in down)
            for ns in (a, z):
                self.watched[(ns.name, link.ifname)] = f"link:{link.id}"

    # --- services --------------------------------------------------------------------------------------

    def apply(self, element: str, config: Document) -> None:
        """Make ``element`` hold exactly ``config``'s bridge, VXLANs and UNIs (idempotent)."""
        ns = self.ns(element)
        bridge = bridge_ifname(config["vni"])
        if bridge not in ns.interfaces:
            self.kernel.add_bridge(ns, bridge, group=config["vni"])
        vxlans = {
            vxlan_ifname(config["vni"], self.topology.link(element, peer).index): self.topology.link(
                element, peer
            )
            for peer in config["nniPeers"]
        }
        hosts = {host_ifname(label): label for label in host_labels(config)}
        ovcs = {ingress_ifname(config["vni"], p["port"]): p for p in config["uniPorts"] if is_enni(p["port"])}
        for name in [n for n, i in ns.interfaces.items() if i.master == bridge]:
            if name not in vxlans and name not in hosts and name not in ovcs:
                self._remove_member(element, ns, name)
        for name, link in vxlans.items():
            if name not in ns.interfaces:
                self.kernel.add_vxlan(
                    ns,
                    name,
                    config["vni"],
                    link.address(element),
                    link.address(link.peer(element)),
                    VXLAN_PORT + link.index,
                    bridge,
                )
        for name, label in hosts.items():
            if name not in ns.interfaces:
                self._add_host(element, ns, label, config["vni"])
            elif ns.interfaces[name].master != bridge:
                self.kernel.set_master(ns, name, bridge, group=config["vni"])
        for name, end_point in ovcs.items():
            self.build_enni(element, end_point["port"])
            if name in ns.interfaces and ns.interfaces[name].tunnel != end_point["sVlanId"]:
                self.kernel.delete(ns, name)  # the OVC End Point's S-VLAN changed
            if name not in ns.interfaces:
                local, remote = self.topology.enni_addresses(element, end_point["port"])
                self.kernel.add_vxlan(
                    ns, name, end_point["sVlanId"], local, remote, VXLAN_PORT, bridge, group=config["vni"]
                )

    # --- ENNIs -----------------------------------------------------------------------------------------

    def build_enni(self, element: str, port: str) -> None:
        """The ENNI's veth to the partner's element, once the partner runs: whichever domain starts second
        creates it and addresses both ends; each side then re-asserts its own end (idempotent). Without a
        partner (none configured, or not started yet) the OVCs' VXLANs exist but reach no one."""
        peer = self.topology.ennis.get((element, port))
        if peer is None:
            return
        ns = self.ns(element)
        name = enni_ifname(port)
        local, remote = self.topology.enni_addresses(element, port)
        if not self.kernel.adopt(ns, name):
            if not mounts.exists(peer.netns):
                return
            self.kernel.add_veth(ns, name, peer.netns, enni_ifname(peer.port), mtu=LINK_MTU)
            self.kernel.configure_elsewhere(peer.netns, enni_ifname(peer.port), remote, 30)
        self.kernel.add_address(ns, name, local, 30)
        if not ns.interfaces[name].up:
            self.kernel.set_up(ns, name, True)

    def isolate(self, element: str, vni: int, isolated: bool = True) -> None:
        """Stop the service forwarding on ``element`` at once (its bridge down; a disabled bridge's ports
        forward nothing), ahead of removing its interfaces; or (``isolated`` False) let it forward again."""
        ns = self.ns(element)
        if bridge_ifname(vni) in ns.interfaces:
            self.kernel.set_up(ns, bridge_ifname(vni), not isolated)

    def remove(self, element: str, vni: int) -> None:
        """Take a service off ``element``: its bridge, VXLANs and UNIs (one group, left to the kernel's
        reaper to delete with others) and the UNIs' CE hosts."""
        ns = self.ns(element)
        members = [n for n, i in ns.interfaces.items() if i.group == vni]
        for name in members:
            self.watched.pop((ns.name, name), None)
        if members:
            self.kernel.remove_group(ns, vni)
        for name in members:
            label = host_label(name)
            if label is not None:
                self.kernel.remove_namespace(self.topology.ce_ns(element, label))

    def _add_host(self, element: str, ns: Namespace, label: str, vni: int) -> None:
        name = host_ifname(label)
        address = self.topology.ce_address(element, label)
        ce = self.topology.ce_ns(element, label)
        self.kernel.add_host(
            ns, name, ce, address, CE_PREFIXLEN, master=bridge_ifname(vni), group=vni, host_ifname=CE_IFNAME
        )
        if not is_enni(label):  # a UNI going down is a port fault; a test head is ours, not a port
            self.watched[(ns.name, name)] = f"port:{element}/{label}"

    def _remove_member(self, element: str, ns: Namespace, name: str) -> None:
        self.watched.pop((ns.name, name), None)
        label = host_label(name)
        if label is not None:
            # Removing the host's namespace takes the veth pair with it, in the kernel's own time,
            # instead of making this call wait for the unregistration.
            self.kernel.forget(ns, name)
            self.kernel.remove_namespace(self.topology.ce_ns(element, label))
        else:
            self.kernel.delete(ns, name)

    # --- reconciliation --------------------------------------------------------------------------------

    def reconcile(self, configurations: list[Document], faults: set[str]) -> None:
        """After a start (or a kill -9): build what is missing, remove what no configuration explains."""
        wanted_ns = {self.topology.element_ns(e) for e in self.topology.elements} | {
            self.topology.ce_ns(c["element"], label) for c in configurations for label in host_labels(c)
        }
        for name in self.kernel.namespaces():
            if name not in wanted_ns:
                self.kernel.remove_namespace(name)
        down = {f.removeprefix("link:") for f in faults if f.startswith("link:")}
        self.build_links(down)
        for element, port in self.topology.ennis:
            self.build_enni(element, port)
        by_element: dict[str, list[Document]] = {e: [] for e in self.topology.elements}
        for config in configurations:
            by_element[config["element"]].append(config)
        for element, configs in by_element.items():
            ns = self.ns(element)
            wanted = {link.ifname for link in self.topology.links_of(element)}
            wanted |= {enni_ifname(port) for at, port in self.topology.ennis if at == element}
            for config in configs:
                wanted.add(bridge_ifname(config["vni"]))
                wanted |= {ingress_ifname(config["vni"], p["port"]) for p in config["uniPorts"]}
                wanted |= {host_ifname(label) for label in host_labels(config)}
                wanted |= {
                    vxlan_ifname(config["vni"], self.topology.link(element, peer).index)
                    for peer in config["nniPeers"]
                }
            for name in [n for n in ns.interfaces if n not in wanted]:
                self._remove_member(element, ns, name)
            for config in configs:
                self.apply(element, config)
        for fault in faults:
            kind, _, target = fault.partition(":")
            if kind in ("element", "port"):
                self.set_fault(kind, target, down=True)

    def keep_hosts(self, prepared: Callable[[str, int], None]) -> None:
        """Have CE hosts made ahead for the next free UNIs of each element (hosts.py), once reconciled;
        ``prepared(namespace, index)`` readies each one's end in its element further."""
        seats = {
            self.topology.element_ns(element): [
                Seat(host_ifname(port), self.topology.ce_address(element, port)) for port in ports
            ]
            for element, ports in self.topology.unis.items()
        }
        self.kernel.keep_hosts(seats, READY_HOSTS, CE_IFNAME, CE_PREFIXLEN, prepared)

    # --- faults ------------------------------------------------------------------------------------------

    def set_fault(self, kind: str, target: str, down: bool) -> bool:
        """Take an element, UNI port or link down (or back up); False when it has no interface to act on."""
        if kind == "link":
            a, _, z = target.partition("--")
            link = self.topology.link(a, z)
            self.kernel.set_up(self.ns(link.a), link.ifname, not down)
            return True
        if kind == "port":
            element, _, port = target.partition("/")
            ns = self.ns(element)
            if uni_ifname(port) not in ns.interfaces:
                return False
            self.kernel.set_up(ns, uni_ifname(port), not down)
            return True
        ns = self.ns(target)
        for name in [n for n in ns.interfaces if n.startswith(("l", "u"))]:
            self.kernel.set_up(ns, name, not down)
        return True

    def operational(self, namespace: str, ifname: str) -> bool | None:
        """Whether a watched interface is up with carrier now (None when it no longer exists)."""
        ns = self.kernel.existing(namespace)
        flags = None if ns is None else self.kernel.flags(ns, ifname)
        if flags is None:
            return None
        return bool(flags & IFF_UP) and bool(flags & IFF_LOWER_UP)
