"""Network namespaces and their interfaces, through one netlink session per namespace.

Every kernel call of a domain runs on one thread of its own (:class:`Kernel`): that thread enters a
namespace only long enough to open a netlink socket there (a socket stays in the namespace it was born
in), keeps one session per namespace (:mod:`rtnl`), and knows each namespace's interfaces (name → index,
bridge, group), so an EVC's interfaces are created with their master, group and state in one request each
and no look-ups. (pyroute2's own ``IPRoute`` opens a socket per calling thread, forks a helper to enter a
named namespace and costs about a millisecond per request.)
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from lso.ecm.drivers.linux import mounts
from lso.ecm.drivers.linux.hosts import HOST_IFINDEX, HostPool, Seat
from lso.ecm.drivers.linux.mounts import KernelError
from lso.ecm.drivers.linux.rtnl import NetlinkError, Rtnl, vxlan_data

IFF_UP = 0x1
IFF_LOWER_UP = 0x10000
RTMGRP_LINK = 0x1
# How long creating an interface waits for one of the same name that the kernel is still destroying.
GONE_WAIT_S = 1.0
# Interfaces of removed services wait in this group (above any VNI) to be deleted together: the kernel
# unregisters a batch behind one set of RCU grace periods (tens of ms here) instead of one set each.
REAP_GROUP = 1 << 30
# The reaper deletes them once this many wait in one namespace, or once no removal came for this long.
REAP_BATCH = 256
REAP_AFTER_S = 0.3
# A removed service's bridge is not deleted but kept, down and without ports, as a spare for the next
# service: the kernel takes ≈17 ms to delete a bridge (even in a batch), against 0.1 ms to rename one.
SPARE_GROUP = REAP_GROUP + 1
SPARE_BRIDGES = 64  # per namespace; above that, removed bridges are deleted
T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass
class Interface:
    index: int
    master: str | None = None
    up: bool = False
    group: int = 0
    bridge: bool = False
    tunnel: int | None = None  # a VXLAN's own VNI


@dataclass
class Namespace:
    """One namespace: its netlink session and what it holds (kept in step with every change we make)."""

    name: str
    nl: Rtnl
    interfaces: dict[str, Interface] = field(default_factory=dict)
    next_index: int = 100
    doomed: set[str] = field(default_factory=set)  # in REAP_GROUP, not yet deleted
    spares: list[int] = field(default_factory=list)  # ifindexes of spare bridges (SPARE_GROUP)

    def index(self, ifname: str) -> int:
        return self.interfaces[ifname].index

    def index_of(self, ifname: str) -> int | None:
        """The index of ``ifname`` when this namespace holds it (None when it does not)."""
        interface = self.interfaces.get(ifname)
        return None if interface is None else interface.index

    def allocate(self) -> int:
        """A fresh interface index: chosen by us so no request has to look the interface up afterwards."""
        used = {i.index for i in self.interfaces.values()} | set(self.spares)
        while self.next_index in used:
            self.next_index += 1
        self.next_index += 1
        return self.next_index - 1


def _tunnel(link: Any) -> int | None:
    """A dumped link's VXLAN VNI (None for any other kind of link)."""
    info = link.get_attr("IFLA_LINKINFO")
    if info is None or info.get_attr("IFLA_INFO_KIND") != "vxlan":
        return None
    data = info.get_attr("IFLA_INFO_DATA")
    return None if data is None else data.get_attr("IFLA_VXLAN_ID")


def _log_failure(future: Future[Any]) -> None:
    if future.exception() is not None:
        log.error("queued kernel work failed", exc_info=future.exception())


class Kernel:
    """The kernel as one domain sees it: its namespaces (all named ``<prefix>-…``) and their interfaces."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{prefix}-kernel")
        self._thread: threading.Thread | None = None
        self._namespaces: dict[str, Namespace] = {}
        self._host = os.open("/proc/self/ns/net", os.O_RDONLY)
        self._pool: HostPool | None = None
        self._reaping: threading.Timer | None = None
        self._mounts = mounts.Mounter(f"{prefix}-mounts")

    # --- running on the kernel thread --------------------------------------------------------------

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn`` on the kernel thread (directly when already on it)."""
        if threading.current_thread() is self._thread:
            return fn(*args)
        return self._executor.submit(self._on_thread, fn, *args).result()

    def submit(self, fn: Callable[..., T], *args: Any, report: bool = True) -> Future[T]:
        """Queue ``fn`` on the kernel thread without waiting; whatever is called later runs after it.
        A failure is logged unless the caller takes the result itself (``report=False``)."""
        future = self._executor.submit(self._on_thread, fn, *args)
        if report:
            future.add_done_callback(_log_failure)
        return future

    def settle(self) -> None:
        """Wait until everything queued so far has been done, removed interfaces and namespaces deleted
        included."""
        self.call(self.reap)
        self._mounts.wait()

    def _on_thread(self, fn: Callable[..., T], *args: Any) -> T:
        self._thread = threading.current_thread()
        return fn(*args)

    def _socket_in(self, name: str, create: bool, groups: int = 0) -> socket.socket:
        self._mounts.wait(name)
        return mounts.netlink_socket(name, self._host, create, groups)

    def _session(self, name: str, create: bool) -> Namespace:
        ns = Namespace(name, Rtnl(self._socket_in(name, create)))
        ns.nl.link_set(1, up=True)
        if create:
            return ns
        links = ns.nl.links()
        if any(msg.get_attr("IFLA_GROUP") == REAP_GROUP for msg in links):
            ns.nl.link_del(group=REAP_GROUP)  # removed by a process that stopped before reaping them
            links = ns.nl.links()
        ns.spares = [msg["index"] for msg in links if msg.get_attr("IFLA_GROUP") == SPARE_GROUP]
        for msg in links:
            ifname = msg.get_attr("IFLA_IFNAME")
            if ifname != "lo" and msg["index"] not in ns.spares:
                up = bool(msg["flags"] & IFF_UP)
                group = msg.get_attr("IFLA_GROUP") or 0
                ns.interfaces[ifname] = Interface(msg["index"], None, up, group, tunnel=_tunnel(msg))
        by_index = {i.index: n for n, i in ns.interfaces.items()}
        for msg in links:
            master = msg.get_attr("IFLA_MASTER")
            if msg.get_attr("IFLA_IFNAME") in ns.interfaces and master in by_index:
                ns.interfaces[msg.get_attr("IFLA_IFNAME")].master = by_index[master]
        return ns

    # --- namespaces ------------------------------------------------------------------------------

    def namespaces(self) -> list[str]:
        """Every namespace of this prefix that exists, ours or left by an earlier process."""
        return mounts.listed(self.prefix)

    def namespace(self, name: str) -> Namespace:
        """The session of namespace ``name``, creating the namespace if it does not exist (kernel thread)."""
        if name not in self._namespaces:
            self._mounts.wait(name)
            self._namespaces[name] = self._session(name, create=not mounts.exists(name))
        return self._namespaces[name]

    def named(self, name: str) -> str:
        """``name``, once the mounts queued for it are done (a host taken from the pool gets its name on
        the mounter's thread): for those who open a namespace by name, as the probe does."""
        self._mounts.wait(name)
        return name

    def existing(self, name: str) -> Namespace | None:
        """The open session of namespace ``name``, without creating anything."""
        return self._namespaces.get(name)

    def remove_namespace(self, name: str) -> None:
        """Delete a namespace (and with it every interface in it, and the far ends of its veths): its name
        is dropped on the mounter's thread, the kernel deletes it once nothing holds it."""
        ns = self._namespaces.pop(name, None)
        if ns is not None:
            ns.nl.close()
        self._mounts.unmount_later(name)

    def monitor_socket(self, name: str) -> socket.socket:
        """A netlink socket in namespace ``name`` subscribed to its link events."""
        self.namespace(name)
        return self._socket_in(name, create=False, groups=RTMGRP_LINK)

    def close(self) -> None:
        """Close every session and stop the kernel thread (again: nothing to do)."""
        if self._host < 0:
            return

        def close_all() -> None:
            self.reap()
            for ns in self._namespaces.values():
                ns.nl.close()
            self._namespaces.clear()

        if self._reaping is not None:
            self._reaping.cancel()
        if self._pool is not None:
            self._pool.close()
        self.call(close_all)
        self._executor.shutdown(wait=True)
        self._mounts.close()
        os.close(self._host)
        self._host = -1

    # --- interfaces (kernel thread) ----------------------------------------------------------------

    def add_veth(
        self,
        a: Namespace,
        a_name: str,
        z_netns: str,
        z_name: str,
        master: str | None = None,
        mtu: int = 0,
        group: int = 0,
    ) -> None:
        """A veth pair from ``a`` to namespace ``z_netns``; ``a``'s end up (enslaved to ``master``), ``z``'s
        end down. An interface of the same name the kernel is still destroying is waited for."""
        self._unreaped(a, a_name)
        a_index = a.allocate()
        self._until_free(
            lambda: a.nl.veth_add(
                a_name,
                z_name,
                z_netns,
                index=a_index,
                master=a.index(master) if master else 0,
                group=group,
                mtu=mtu,
            )
        )
        a.interfaces[a_name] = Interface(a_index, master, True, group)
        z = self._namespaces.get(z_netns)
        if z is not None:
            # The kernel takes no index for the far end: ask which one it chose.
            found = z.nl.link_by_name(z_name)
            if found is None:
                raise KernelError(f"{z_name} did not appear in {z_netns}")
            z.interfaces[z_name] = Interface(found["index"], None, False)

    def keep_hosts(
        self,
        seats: dict[str, list[Seat]],
        per_element: int,
        ifname: str,
        prefixlen: int,
        prepared: Callable[[str, int], None],
    ) -> None:
        """Keep hosts (their interface ``ifname``, their address /``prefixlen``) ready for the next
        ``per_element`` free UNIs of each element (``seats``: by namespace name, in allocation order) for
        :meth:`add_host`; ``prepared(namespace, index)`` is called with each one's end in the element."""
        if self._pool is None:
            self._pool = HostPool(
                self.prefix,
                seats,
                per_element,
                ifname,
                prefixlen,
                lambda: mounts.unnamed_netlink_socket(self._host),
                {name: set(ns.interfaces) for name, ns in self._namespaces.items() if name in seats},
                prepared,
            )
            self._pool.start()

    def hosts_ready(self, timeout: float) -> bool:
        """Whether the CE hosts kept ready (:meth:`keep_hosts`) are all made, waiting up to ``timeout`` s."""
        return self._pool is not None and self._pool.wait_full(timeout)

    def add_host(
        self,
        ns: Namespace,
        ifname: str,
        host: str,
        address: str,
        prefixlen: int,
        *,
        master: str,
        group: int,
        host_ifname: str,
    ) -> None:
        """A customer-edge host: namespace ``host`` (afresh) whose ``host_ifname`` at ``address`` is the far
        end of ``ifname`` in ``ns``, up and a port of ``master``. A host made ready for ``ifname`` is
        taken when there is one: its end in ``ns`` enslaved and set up, its namespace mounted under
        ``host`` by the mounter's thread (see :meth:`named`)."""
        self._mounts.wait(host)
        if mounts.exists(host):  # a CE host without its UNI is a leftover
            mounts.unmount(host)
        self._unreaped(ns, ifname)
        ready = self._pool.take(ns.name, ifname) if self._pool is not None else None
        if ready is not None:
            ready.nl.close()
            self._mounts.bind_later(ready.fd, host)
            ns.interfaces[ifname] = Interface(ready.uplink, master, False, group)
            ns.nl.link_set(ready.uplink, master=ns.index(master), group=group, up=True)
            ns.interfaces[ifname].up = True
            return
        nl = Rtnl(self._socket_in(host, create=True))
        try:
            nl.link_set(1, up=True)
            self.add_veth(ns, ifname, host, host_ifname, master=master, group=group)
            nl.addr_add(HOST_IFINDEX, address, prefixlen)
            nl.link_set(HOST_IFINDEX, up=True)
        finally:
            nl.close()

    @staticmethod
    def _until_free(request: Callable[[], None]) -> None:
        """Send ``request``, again while the kernel still destroys an interface of the same name."""
        deadline = time.monotonic() + GONE_WAIT_S
        while True:
            try:
                request()
                return
            except NetlinkError as exc:
                if exc.code != errno.EEXIST or time.monotonic() > deadline:
                    raise
                time.sleep(0.005)

    def add_bridge(self, ns: Namespace, name: str, group: int = 0) -> None:
        """A bridge, up: a spare one renamed when the namespace has one, else a new one."""
        self._unreaped(ns, name)
        if ns.spares:
            if ns.doomed:  # they may still be ports of the spare: delete them before it forwards again
                self.reap()
            index = ns.spares.pop()
            ns.nl.link_set(index, ifname=name, group=group, up=True)
        else:
            index = ns.allocate()
            ns.nl.link_add(name, "bridge", index=index, group=group)
        ns.interfaces[name] = Interface(index, None, True, group, bridge=True)

    def add_vxlan(
        self,
        ns: Namespace,
        name: str,
        vni: int,
        local: str,
        remote: str,
        port: int,
        master: str,
        group: int | None = None,
    ) -> None:
        """A unicast VXLAN port of bridge ``master``, in the bridge's group (the service's VNI, unless the
        VXLAN's own ``vni`` is another: an OVC's S-VLAN at an ENNI)."""
        group = vni if group is None else group
        self._unreaped(ns, name)
        index = ns.allocate()
        data = vxlan_data(vni, local, remote, port)
        ns.nl.link_add(name, "vxlan", index=index, master=ns.index(master), group=group, data=data)
        ns.interfaces[name] = Interface(index, master, True, group, tunnel=vni)

    def add_address(self, ns: Namespace, ifname: str, address: str, prefixlen: int) -> None:
        ns.nl.addr_add(ns.index(ifname), address, prefixlen)

    def adopt(self, ns: Namespace, ifname: str) -> bool:
        """Whether ``ifname`` exists in ``ns``, cached then (another domain may have created it there)."""
        if ifname in ns.interfaces:
            return True
        found = ns.nl.link_by_name(ifname)
        if found is not None:
            ns.interfaces[ifname] = Interface(found["index"], None, bool(found["flags"] & IFF_UP))
        return found is not None

    def configure_elsewhere(self, netns: str, ifname: str, address: str, prefixlen: int) -> None:
        """Address ``ifname`` and set it up in another domain's namespace ``netns`` (the far end of a veth
        made here), through a socket opened there for this only."""
        nl = Rtnl(self._socket_in(netns, create=False))
        try:
            found = nl.link_by_name(ifname)
            if found is None:
                raise KernelError(f"{ifname} did not appear in {netns}")
            nl.addr_add(found["index"], address, prefixlen)
            nl.link_set(found["index"], up=True)
        finally:
            nl.close()

    def set_master(self, ns: Namespace, ifname: str, master: str | None, group: int = 0) -> None:
        ns.nl.link_set(ns.index(ifname), master=ns.index(master) if master else 0, group=group)
        ns.interfaces[ifname].master = master
        ns.interfaces[ifname].group = group

    def set_up(self, ns: Namespace, ifname: str, up: bool) -> None:
        ns.nl.link_set(ns.index(ifname), up=up)
        ns.interfaces[ifname].up = up

    def remove_group(self, ns: Namespace, group: int) -> None:
        """Hand every interface of ``group`` (a service its bridge no longer forwards) to REAP_GROUP: the
        reaper deletes many interfaces — of many services — in one request. Its bridge becomes a spare."""
        for name in [n for n, i in ns.interfaces.items() if i.group == group]:
            interface = ns.interfaces.pop(name)
            if interface.bridge and len(ns.spares) < SPARE_BRIDGES:
                # Its ports go to the reaper; down already (the service was isolated), it is renamed
                # after its index so that the service's name is free at once.
                ns.nl.link_set(interface.index, up=False, group=SPARE_GROUP, ifname=f"s{interface.index}")
                ns.spares.append(interface.index)
                continue
            ns.nl.link_set(interface.index, group=REAP_GROUP)
            ns.doomed.add(name)
            self._released(ns, name)
        if len(ns.doomed) >= REAP_BATCH:
            self.reap()
        else:
            self._reap_later()

    def reap(self) -> None:
        """Delete every removed interface: one request (one unregistration batch) per namespace."""
        for ns in self._namespaces.values():
            if ns.doomed:
                ns.nl.link_del(group=REAP_GROUP)
                ns.doomed.clear()

    def _reap_later(self) -> None:
        """Reap once removals pause (each new removal postpones it)."""
        if self._reaping is not None:
            self._reaping.cancel()
        self._reaping = threading.Timer(REAP_AFTER_S, self.submit, args=(self.reap,))
        self._reaping.daemon = True
        self._reaping.start()

    def _unreaped(self, ns: Namespace, name: str) -> None:
        """A name about to be created again must not still be waiting for the reaper."""
        if name in ns.doomed:
            self.reap()

    def forget(self, ns: Namespace, ifname: str) -> None:
        """Drop an interface the kernel removes by itself (the end of a veth whose peer's namespace goes)."""
        ns.interfaces.pop(ifname, None)
        self._released(ns, ifname)

    def _released(self, ns: Namespace, ifname: str) -> None:
        """``ifname`` is on its way out of ``ns``: should it be a UNI's veth, the pool may prepare it again
        (while the kernel still destroys the old one, the pool's attempts wait)."""
        if self._pool is not None:
            self._pool.release(ns.name, ifname)

    def delete(self, ns: Namespace, ifname: str) -> None:
        interface = ns.interfaces.pop(ifname, None)
        if interface is None:
            return
        try:
            ns.nl.link_del(interface.index)
        except NetlinkError as exc:  # already gone with its peer's namespace
            if exc.code != errno.ENODEV:
                raise

    def flags(self, ns: Namespace, ifname: str) -> int | None:
        """The interface's current flags from the kernel (None when it is gone)."""
        if ifname not in ns.interfaces:
            return None
        found = ns.nl.link(ns.index(ifname))
        return None if found is None else int(found["flags"])

    def names(self, ns: Namespace) -> set[str]:
        """The names of the interfaces the kernel holds in ``ns`` (not our cache)."""
        return {msg.get_attr("IFLA_IFNAME") for msg in ns.nl.links()}

    def statistics(self, ns: Namespace) -> dict[str, dict[str, int]]:
        """Every interface's packet and byte counters in one dump."""
        result = {}
        for msg in ns.nl.links():
            stats = msg.get_attr("IFLA_STATS64")
            if stats is not None:
                result[msg.get_attr("IFLA_IFNAME")] = {
                    key: int(stats[key]) for key in ("rx_packets", "rx_bytes", "tx_packets", "tx_bytes")
                }
        return result
