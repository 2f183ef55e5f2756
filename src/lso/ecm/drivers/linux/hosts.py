"""Customer-edge hosts made ahead of time, per UNI, so configuring a UNI waits for no namespace.

A customer-edge host is a namespace (loopback up, IPv6 off) holding ``eth0``, a veth whose other end is
in the element. Made on demand that is ≈ 3 ms of kernel work per UNI (two per EPL). The pool's thread
makes them ahead for the next free UNIs of each element, in the order ICM allocates them (by port
number): a namespace without a name (held by a descriptor and a netlink session) with ``eth0`` up at the
CE's address, and the element's end, down and outside any bridge, named after its UNI already, at an
index of :data:`READY_INDEXES` (far above the indexes the kernel thread gives, so the two threads never
choose the same). Taking one is one request on the element's end (enslaved to the service's bridge, set
up); the mounter's thread then names the namespace after the customer edge. A rename would wait for an
RCU grace period (1–4 ms on a busy host, two per EPL), so the end is born with its name; likewise it is
born in the element (moving a veth end between namespaces also costs a grace period per move).

A ready host has no name, so nothing of it survives its process: at a ``kill -9`` the kernel deletes its
namespace, and the element's end with it.
"""

from __future__ import annotations

import errno
import itertools
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from lso.ecm.drivers.linux.rtnl import NetlinkError, Rtnl, veth_peer

# The host's namespace holds loopback (1) and its end of the veth (2).
HOST_IFINDEX = 2
READY_INDEXES = 1 << 24  # the element ends of ready hosts take indexes from here up
BLOCKED_S = 0.05  # a seat whose name the kernel is still destroying is tried again after this
log = logging.getLogger(__name__)


@dataclass
class ReadyHost:
    fd: int  # a descriptor of its namespace (which has no name until taken)
    nl: Rtnl  # a session inside it
    uplink: int  # the index of its veth's end in the element


@dataclass(frozen=True)
class Seat:
    """A UNI whose host the pool may make ahead: its veth's name in the element, the CE's address."""

    ifname: str
    address: str


class HostPool:
    """Keeps hosts ready for the first ``per_element`` free UNIs (``seats``, in allocation order) of each
    element, on a thread of its own; :meth:`take` never waits for one to be made from scratch."""

    def __init__(
        self,
        prefix: str,
        seats: dict[str, list[Seat]],
        per_element: int,
        host_ifname: str,
        prefixlen: int,
        new_namespace: Callable[[], tuple[socket.socket, int]],
        in_service: dict[str, set[str]],
        prepared: Callable[[str, int], None],
    ) -> None:
        self.prefix = prefix
        self.seats = seats
        self.per_element = per_element
        self.host_ifname = host_ifname
        self.prefixlen = prefixlen
        self._new_namespace = new_namespace  # a netlink socket in a new unnamed namespace, and its descriptor
        self._in_service = in_service  # per element, the UNIs whose veth is taken (not yet released)
        self._prepared = prepared  # (element, index of its end): more to do on a host made ready
        self._ready: dict[tuple[str, str], ReadyHost] = {}
        self._making: tuple[str, str] | None = None
        self._blocked: dict[tuple[str, str], float] = {}  # seat: when to try again (its name is in use)
        self._indexes = itertools.count(READY_INDEXES)
        self._wanted = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._fill, name=f"{prefix}-hosts", daemon=True)

    def start(self) -> None:
        if self.seats:
            self._thread.start()

    def take(self, element: str, ifname: str) -> ReadyHost | None:
        """The host ready for UNI ``ifname`` of ``element`` (a namespace name); None when there is none:
        the caller makes one. A host being made for it is waited for."""
        key = (element, ifname)
        with self._wanted:
            while self._making == key:
                self._wanted.wait()
            self._in_service.setdefault(element, set()).add(ifname)
            host = self._ready.pop(key, None)
            self._wanted.notify_all()
        return host

    def release(self, element: str, ifname: str) -> None:
        """UNI ``ifname`` of ``element`` no longer has a host: one may be made ready for it again."""
        with self._wanted:
            in_service = self._in_service.get(element, set())
            if ifname in in_service:
                in_service.discard(ifname)
                self._wanted.notify_all()

    def wait_full(self, timeout: float) -> bool:
        """Whether the next free UNIs of every element have their hosts, waiting up to ``timeout`` s."""
        with self._wanted:
            return self._wanted.wait_for(lambda: self._making is None and self._next() is None, timeout)

    def close(self) -> None:
        """Stop filling and remove the hosts still ready (their element ends go with their namespaces)."""
        with self._wanted:
            self._stopping = True
            self._wanted.notify_all()
        if self._thread.is_alive():
            self._thread.join()
        for host in self._ready.values():
            _let_go(host)
        self._ready.clear()

    def _next(self) -> tuple[str, Seat] | None:
        """The seat to make a host for: among the first ``per_element`` free seats of each element, one
        without a host, of the element with the fewest ready. Hosts ready for seats further on (ports
        freed below them since) are let go, so an element never holds more than ``per_element``."""
        now = time.monotonic()
        self._blocked = {key: until for key, until in self._blocked.items() if until > now}
        wanted = []
        for element, seats in self.seats.items():
            in_service = self._in_service.get(element, set())
            free = (
                s for s in seats if s.ifname not in in_service and (element, s.ifname) not in self._blocked
            )
            first = list(itertools.islice(free, self.per_element))
            waiting = [seat for seat in first if (element, seat.ifname) not in self._ready]
            if not waiting:
                continue
            keep = {seat.ifname for seat in first}
            for key in [k for k in self._ready if k[0] == element and k[1] not in keep][: len(waiting)]:
                _let_go(self._ready.pop(key))
            wanted.append((sum(1 for e, _ in self._ready if e == element), element, waiting[0]))
        return min(wanted, key=lambda w: w[0])[1:] if wanted else None

    def _fill(self) -> None:
        # Filling is work ahead of need: on a busy host it yields the cores to the kernel thread, whose
        # work a configure call waits for (Linux applies a thread's own nice value to it alone).
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        while True:
            with self._wanted:
                found = None
                while not self._stopping and (found := self._next()) is None:
                    self._wanted.wait(BLOCKED_S if self._blocked else None)
                if found is None:
                    return
                element, seat = found
                self._making = (element, seat.ifname)
            host = None
            try:
                host = self._make(element, seat)
                self._prepare(element, host)
            except NetlinkError as exc:
                # EEXIST, EBUSY: a name or index the kernel is still destroying (a host let go, a UNI left)
                if exc.code not in (errno.EEXIST, errno.EBUSY):
                    log.exception("could not prepare a customer-edge host; the pool stops filling")
                    return
            except OSError:
                log.exception("could not prepare a customer-edge host; the pool stops filling")
                return
            finally:
                with self._wanted:
                    self._making = None
                    if host is not None:
                        self._ready[(element, seat.ifname)] = host
                        self._blocked.pop((element, seat.ifname), None)
                    else:  # an interface of that name is still being destroyed: later
                        self._blocked[(element, seat.ifname)] = time.monotonic() + BLOCKED_S
                    self._wanted.notify_all()

    def _prepare(self, element: str, host: ReadyHost) -> None:
        try:
            self._prepared(element, host.uplink)
        except OSError:  # the host still serves; whoever takes it does that part itself
            log.exception("could not prepare the element's end of a customer-edge host")

    def _make(self, element: str, seat: Seat) -> ReadyHost:
        sock, namespace = self._new_namespace()
        nl, index = Rtnl(sock), next(self._indexes)
        try:
            nl.link_set(1, up=True)
            fd = os.open(f"/run/netns/{element}", os.O_RDONLY)
            try:
                # The kernel registers a veth's peer first: the element's end, born in the element.
                peer = veth_peer(seat.ifname, fd, index=index)
                # Up already (no carrier while the element's end is down): taking it needs one request less.
                nl.link_add(self.host_ifname, "veth", index=HOST_IFINDEX, data=peer)
            finally:
                os.close(fd)
            nl.addr_add(HOST_IFINDEX, seat.address, self.prefixlen)
        except OSError:
            nl.close()
            os.close(namespace)
            raise
        return ReadyHost(namespace, nl, index)


def _let_go(host: ReadyHost) -> None:
    host.nl.close()
    os.close(host.fd)  # nothing holds the namespace now: the kernel deletes it (and the element's end)
