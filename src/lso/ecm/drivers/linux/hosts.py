"""Customer-edge hosts made ahead of time, so configuring a UNI does not wait for a namespace.

A customer-edge host is a namespace (loopback up, IPv6 off) with a veth pair: ``eth0`` stays, the other
end (``h<id>``, a name no element uses) moves into the element when the host is taken, enslaved to the
service's bridge, then is renamed after the UNI and set up: two requests instead of creating a namespace
and a veth into it (≈ 3 ms of kernel work per UNI, now done off the critical path). The pool's thread keeps
``size`` hosts ready, named ``<prefix>-pool-<id>`` until taken; the namespace is then bind-mounted under
its customer-edge name.
Hosts left ready at a ``kill -9`` are namespaces no configuration explains: the next start removes them,
as does ``lso lab clean``.
"""

from __future__ import annotations

import logging
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from lso.ecm.drivers.linux.rtnl import Rtnl

# The host's namespace holds loopback (1) and its UNI end (2), created first.
HOST_IFINDEX = 2
log = logging.getLogger(__name__)


@dataclass
class ReadyHost:
    name: str  # its namespace under /run/netns (``<prefix>-pool-…`` until taken)
    nl: Rtnl  # a session inside it
    uplink: int  # the index of the veth end that goes to the element


class HostPool:
    """Keeps ``size`` hosts ready on a thread of its own; :meth:`take` never waits for one."""

    def __init__(
        self,
        prefix: str,
        size: int,
        ifname: str,
        open_socket: Callable[[str], socket.socket],
        remove: Callable[[str], None],
    ) -> None:
        self.prefix = prefix
        self.size = size
        self.ifname = ifname
        self._open_socket = open_socket  # a netlink socket in a new namespace of that name
        self._remove = remove
        self._ready: list[ReadyHost] = []
        self._wanted = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._fill, name=f"{prefix}-hosts", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def take(self) -> ReadyHost | None:
        """A ready host (None when the pool is empty: the caller builds one itself)."""
        with self._wanted:
            host = self._ready.pop() if self._ready else None
            self._wanted.notify()
        return host

    def close(self) -> None:
        """Stop filling and remove the hosts still ready."""
        with self._wanted:
            self._stopping = True
            self._wanted.notify()
        if self._thread.is_alive():
            self._thread.join()
        for host in self._ready:
            host.nl.close()
            self._remove(host.name)
        self._ready.clear()

    def _fill(self) -> None:
        while True:
            with self._wanted:
                while not self._stopping and len(self._ready) >= self.size:
                    self._wanted.wait()
                if self._stopping:
                    return
            try:
                host = self._make()
            except OSError:
                log.exception("could not prepare a customer-edge host; the pool stops filling")
                return
            with self._wanted:
                self._ready.append(host)

    def _make(self) -> ReadyHost:
        tag = uuid.uuid4().hex[:8]
        name, uplink = f"{self.prefix}-pool-{tag}", f"h{tag}"
        nl = Rtnl(self._open_socket(name))
        try:
            nl.link_set(1, up=True)
            # The kernel registers a veth's peer first: the host's end is the peer, at the index we say.
            peer = {"index": HOST_IFINDEX, "attrs": [("IFLA_IFNAME", self.ifname)]}
            nl.link_add(uplink, "veth", up=False, data=[("VETH_INFO_PEER", peer)])
            found = nl.link_by_name(uplink)
            if found is None:
                raise OSError(f"{uplink} did not appear in {name}")
        except OSError:
            nl.close()
            self._remove(name)
            raise
        return ReadyHost(name, nl, int(found["index"]))
