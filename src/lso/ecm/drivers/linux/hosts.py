"""Customer-edge hosts made ahead of time, per element, so configuring a UNI waits for no namespace.

A customer-edge host is a namespace (loopback up, IPv6 off) holding ``eth0``, a veth whose other end is
in the element. Made on demand that is ≈ 3 ms of kernel work per UNI (two per EPL). The pool's thread
makes them ahead, for each element with UNIs: a namespace without a name (held by a descriptor and a
netlink session) and the element's end, down and outside any bridge, named ``h<id>`` at an index of
:data:`READY_INDEXES` (far above the indexes the kernel thread gives, so the two threads never choose the
same). Taking one is one request renaming the element's end after the UNI, enslaving it to the service's
bridge and setting it up; the mounter's thread then names the namespace after the customer edge. (Moving
a veth end between namespaces instead costs an RCU grace period per move, tens of ms on a busy host: the
end is born where it will serve.)

A ready host has no name, so nothing of it survives its process: at a ``kill -9`` the kernel deletes its
namespace, and the element's end with it.
"""

from __future__ import annotations

import itertools
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from lso.ecm.drivers.linux.rtnl import Rtnl, veth_peer

# The host's namespace holds loopback (1) and its end of the veth (2).
HOST_IFINDEX = 2
READY_INDEXES = 1 << 24  # the element ends of ready hosts take indexes from here up
log = logging.getLogger(__name__)


@dataclass
class ReadyHost:
    fd: int  # a descriptor of its namespace (which has no name until taken)
    nl: Rtnl  # a session inside it
    uplink: int  # the index of its veth's end in the element


class HostPool:
    """Keeps ``per_element`` hosts ready for each element on a thread of its own; :meth:`take` never
    waits for one."""

    def __init__(
        self,
        prefix: str,
        elements: list[str],
        per_element: int,
        ifname: str,
        new_namespace: Callable[[], tuple[socket.socket, int]],
    ) -> None:
        self.prefix = prefix
        self.per_element = per_element
        self.ifname = ifname
        self._new_namespace = new_namespace  # a netlink socket in a new unnamed namespace, and its descriptor
        self._ready: dict[str, list[ReadyHost]] = {element: [] for element in elements}
        self._indexes = itertools.count(READY_INDEXES)
        self._wanted = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._fill, name=f"{prefix}-hosts", daemon=True)

    def start(self) -> None:
        if self._ready:
            self._thread.start()

    def take(self, element: str) -> ReadyHost | None:
        """A host ready in ``element`` (a namespace name); None when there is none: the caller makes one."""
        with self._wanted:
            ready = self._ready.get(element)
            host = ready.pop() if ready else None
            self._wanted.notify()
        return host

    def close(self) -> None:
        """Stop filling and remove the hosts still ready (their element ends go with their namespaces)."""
        with self._wanted:
            self._stopping = True
            self._wanted.notify()
        if self._thread.is_alive():
            self._thread.join()
        for hosts in self._ready.values():
            for host in hosts:
                host.nl.close()
                os.close(host.fd)  # nothing holds the namespace now: the kernel deletes it
            hosts.clear()

    def _short(self) -> str | None:
        """The element with the fewest hosts ready, if below the target."""
        element = min(self._ready, key=lambda e: len(self._ready[e]))
        return element if len(self._ready[element]) < self.per_element else None

    def _fill(self) -> None:
        # Filling is work ahead of need: on a busy host it yields the cores to the kernel thread, whose
        # work a configure call waits for (Linux applies a thread's own nice value to it alone).
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        while True:
            with self._wanted:
                while not self._stopping and self._short() is None:
                    self._wanted.wait()
                if self._stopping:
                    return
                element = self._short()
            assert element is not None
            try:
                host = self._make(element)
            except OSError:
                log.exception("could not prepare a customer-edge host; the pool stops filling")
                return
            with self._wanted:
                self._ready[element].append(host)

    def _make(self, element: str) -> ReadyHost:
        tag = uuid.uuid4().hex[:8]
        sock, namespace = self._new_namespace()
        nl, index = Rtnl(sock), next(self._indexes)
        try:
            nl.link_set(1, up=True)
            fd = os.open(f"/run/netns/{element}", os.O_RDONLY)
            try:
                # The kernel registers a veth's peer first: the element's end, born in the element.
                peer = veth_peer(f"h{tag}", fd, index=index)
                # Up already (no carrier while the element's end is down): taking it needs one request less.
                nl.link_add(self.ifname, "veth", index=HOST_IFINDEX, data=peer)
            finally:
                os.close(fd)
        except OSError:
            nl.close()
            os.close(namespace)
            raise
        return ReadyHost(namespace, nl, index)
