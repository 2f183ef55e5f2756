"""The link-state monitor: netlink link events of every element namespace, turned into alarms.

One thread waits on one netlink socket per element namespace (subscribed to RTMGRP_LINK). An event only
says that something changed; its flags may be stale by the time it is read (an interface being created goes
through down states), so for a watched interface the monitor asks the kernel for the state *now* and
reports a change of that: ``on_change(source, up)``. Interfaces the data plane is creating or removing are
not watched yet (or any more), so building or tearing down a service never raises an alarm.
"""

from __future__ import annotations

import logging
import select
import socket
import struct
import threading
from collections.abc import Callable

from lso.ecm.drivers.linux.plane import DataPlane

log = logging.getLogger(__name__)

RTM_NEWLINK = 16
IFLA_IFNAME = 3
_HEADER = struct.Struct("=IHHII")  # nlmsghdr
_IFINFO = struct.Struct("=BxHiII")  # ifinfomsg
_ATTR = struct.Struct("=HH")


def link_names(data: bytes) -> set[str]:
    """The names of the interfaces that RTM_NEWLINK messages in ``data`` are about."""
    names: set[str] = set()
    offset = 0
    while offset + _HEADER.size <= len(data):
        length, kind, _flags, _seq, _pid = _HEADER.unpack_from(data, offset)
        if length < _HEADER.size:
            break
        if kind == RTM_NEWLINK:
            attr = offset + _HEADER.size + _IFINFO.size
            while attr + _ATTR.size <= offset + length:
                attr_length, attr_type = _ATTR.unpack_from(data, attr)
                if attr_length < _ATTR.size:
                    break
                if attr_type == IFLA_IFNAME:
                    names.add(data[attr + _ATTR.size : attr + attr_length].split(b"\0", 1)[0].decode())
                attr += (attr_length + 3) & ~3
        offset += (length + 3) & ~3
    return names


class LinkMonitor:
    """Watches the element namespaces of a data plane and reports watched interfaces going down or up."""

    def __init__(self, plane: DataPlane, on_change: Callable[[str, bool], None]) -> None:
        self.plane = plane
        self.on_change = on_change
        self._sockets: dict[socket.socket, str] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # The last state reported per source: an alarm is raised or cleared once per transition (and the
        # first check of each source reports, so a restart clears alarms of links repaired meanwhile).
        self._reported: dict[str, bool] = {}

    def start(self) -> None:
        kernel = self.plane.kernel
        for element in self.plane.topology.elements:
            name = self.plane.topology.element_ns(element)
            self._sockets[kernel.call(kernel.monitor_socket, name)] = name
        self._thread = threading.Thread(target=self._run, name=f"{kernel.prefix}-links", daemon=True)
        self._thread.start()
        for namespace, ifname in list(self.plane.watched):
            self._check(namespace, ifname)  # what happened while nobody watched (e.g. during a restart)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for sock in self._sockets:
            sock.close()
        self._sockets.clear()

    def _run(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select(list(self._sockets), [], [], 0.2)
            for sock in ready:
                try:
                    data = sock.recv(65536)
                except OSError:  # ENOBUFS after a burst of events: look at everything watched there
                    data = b""
                namespace = self._sockets[sock]
                names = link_names(data) if data else {n for ns, n in self.plane.watched if ns == namespace}
                for ifname in names:
                    if (namespace, ifname) in self.plane.watched:
                        self._check(namespace, ifname)

    def _check(self, namespace: str, ifname: str) -> None:
        kernel = self.plane.kernel
        up = kernel.call(self.plane.operational, namespace, ifname)
        source = self.plane.watched.get((namespace, ifname))
        if up is None or source is None:
            return
        if source.startswith("link:") and up:
            # A link is up only when both of its ends are.
            link = self.plane.topology.link(*source.removeprefix("link:").split("--", 1))
            ends = [(self.plane.topology.element_ns(e), link.ifname) for e in (link.a, link.z)]
            up = all(kernel.call(self.plane.operational, *end) for end in ends)
        if self._reported.get(source) == up:
            return
        self._reported[source] = up
        try:
            self.on_change(source, up)
        except Exception:
            log.exception("could not report %s %s", source, "up" if up else "down")
            self._reported.pop(source, None)
