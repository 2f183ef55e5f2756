"""Route netlink requests on a plain socket, encoded by hand.

pyroute2 0.9's ``IPRoute`` runs every request through asyncio and costs about a millisecond each (five
for a veth into another namespace); the data plane makes a dozen per EVC. Even pyroute2's message classes
alone cost 0.1 ms of Python to encode a one-attribute change and 0.5 ms for a VXLAN, as much as the kernel
takes to make it, and that Python holds the interpreter lock the model's writes need meanwhile. The few
kinds of request the driver sends are therefore packed with :mod:`struct` here: create, change and delete
links (one at a time or a whole interface group), add an address, the policer's clsact qdisc and eBPF
filter, read one link or dump them. Only the kernel's answers to reads are decoded by pyroute2.
"""

from __future__ import annotations

import os
import socket
import struct
from typing import Any

from pyroute2.netlink import NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REPLACE, NLM_F_REQUEST
from pyroute2.netlink.rtnl import (
    RTM_DELLINK,
    RTM_DELTFILTER,
    RTM_GETLINK,
    RTM_NEWADDR,
    RTM_NEWLINK,
    RTM_NEWQDISC,
    RTM_NEWTFILTER,
)
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

IFF_UP = 0x1
NLMSG_ERROR, NLMSG_DONE = 2, 3
_HEADER = struct.Struct("=IHHII")
_ERROR = struct.Struct("=i")
_IFINFO = struct.Struct("=BxHiII")  # family, type, index, flags, change
_IFADDR = struct.Struct("=BBBBI")  # family, prefixlen, flags, scope, index
_TCMSG = struct.Struct("=BxxxiIII")  # family, ifindex, handle, parent, info
_ATTR = struct.Struct("=HH")
IFLA_IFNAME, IFLA_MTU, IFLA_MASTER, IFLA_LINKINFO, IFLA_GROUP, IFLA_NET_NS_FD = 3, 4, 10, 18, 27, 28
IFLA_INFO_KIND, IFLA_INFO_DATA = 1, 2
VETH_INFO_PEER = 1
IFLA_VXLAN_ID, IFLA_VXLAN_GROUP, IFLA_VXLAN_LOCAL, IFLA_VXLAN_LEARNING, IFLA_VXLAN_PORT = 1, 2, 4, 7, 15
IFA_ADDRESS, IFA_LOCAL = 1, 2
TC_H_CLSACT = 0xFFFFFFF1
TC_H_INGRESS_CHILD = 0xFFFFFFF2  # TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS)
ETH_P_ALL = 0x0003
TCA_KIND, TCA_OPTIONS = 1, 2
TCA_BPF_FD, TCA_BPF_NAME, TCA_BPF_FLAGS = 6, 7, 8
TCA_BPF_FLAG_ACT_DIRECT = 1
_BUFFER = 1 << 20


class NetlinkError(OSError):
    """The kernel refused a request; ``code`` is the errno."""

    def __init__(self, code: int, what: str) -> None:
        super().__init__(code, f"{what}: {os.strerror(code)}")
        self.code = code


class Rtnl:
    """One route netlink socket (it stays in the namespace it was opened in)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _BUFFER)
        self._sequence = 0

    def close(self) -> None:
        self.sock.close()

    # --- requests ------------------------------------------------------------------------------------

    def link_add(
        self,
        ifname: str,
        kind: str,
        *,
        index: int = 0,
        master: int = 0,
        group: int = 0,
        up: bool = True,
        mtu: int = 0,
        data: bytes = b"",
    ) -> None:
        """Create a link of ``kind``; ``data`` is its kind's IFLA_INFO_DATA (:func:`vxlan_data`,
        :func:`veth_peer`)."""
        info = _attr(IFLA_INFO_KIND, kind.encode() + b"\0") + (_attr(IFLA_INFO_DATA, data) if data else b"")
        attrs = _attr(IFLA_IFNAME, ifname.encode() + b"\0") + _attr(IFLA_LINKINFO, info)
        attrs += _u32(IFLA_MASTER, master) if master else b""
        attrs += _u32(IFLA_GROUP, group) if group else b""
        attrs += _u32(IFLA_MTU, mtu) if mtu else b""
        self._send(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, _ifinfo(index, up) + attrs, f"create {ifname}")

    def veth_add(
        self,
        ifname: str,
        peer: str,
        peer_netns: str,
        *,
        index: int = 0,
        master: int = 0,
        group: int = 0,
        mtu: int = 0,
    ) -> None:
        """A veth pair whose far end ``peer`` is born in namespace ``peer_netns`` (under /run/netns)."""
        fd = os.open(f"/run/netns/{peer_netns}", os.O_RDONLY)
        try:
            data = veth_peer(peer, fd, mtu=mtu)
            self.link_add(ifname, "veth", index=index, master=master, group=group, mtu=mtu, data=data)
        finally:
            os.close(fd)

    def link_set(
        self,
        index: int,
        *,
        up: bool | None = None,
        master: int | None = None,
        group: int | None = None,
        ifname: str | None = None,
    ) -> None:
        """Change a link; a new ``ifname`` is applied before ``up`` (the kernel renames only a link down)."""
        attrs = b"" if master is None else _u32(IFLA_MASTER, master)
        attrs += b"" if group is None else _u32(IFLA_GROUP, group)
        attrs += b"" if ifname is None else _attr(IFLA_IFNAME, ifname.encode() + b"\0")
        self._send(RTM_NEWLINK, 0, _ifinfo(index, up) + attrs, f"change link {index}")

    def link_del(self, index: int = 0, group: int = 0) -> None:
        """Delete one link, or (``index`` 0) every link of ``group`` as one batch."""
        attrs = _u32(IFLA_GROUP, group) if group else b""
        self._send(RTM_DELLINK, 0, _ifinfo(index, None) + attrs, f"delete link {index or f'group {group}'}")

    def addr_add(self, index: int, address: str, prefixlen: int) -> None:
        packed = socket.inet_aton(address)
        body = _IFADDR.pack(socket.AF_INET, prefixlen, 0, 0, index)
        body += _attr(IFA_LOCAL, packed) + _attr(IFA_ADDRESS, packed)
        self._send(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, body, f"address {address} on {index}")

    # --- traffic control: a direct-action eBPF filter on a clsact ingress ----------------------------

    def clsact(self, index: int) -> None:
        """``tc qdisc replace dev <index> clsact``."""
        body = _TCMSG.pack(socket.AF_UNSPEC, index, 0xFFFF0000, TC_H_CLSACT, 0) + _attr(TCA_KIND, b"clsact\0")
        self._send(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE, body, f"clsact on {index}")

    def ingress_bpf(self, index: int, preference: int, handle: int, program_fd: int, name: str) -> None:
        """``tc filter replace dev <index> ingress pref <p> handle <h> bpf da fd <program>``."""
        options = (
            _u32(TCA_BPF_FD, program_fd)
            + _attr(TCA_BPF_NAME, name.encode() + b"\0")
            + _u32(TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT)
        )
        body = (
            self._filter(index, preference, handle) + _attr(TCA_KIND, b"bpf\0") + _attr(TCA_OPTIONS, options)
        )
        self._send(RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_REPLACE, body, f"eBPF filter on {index}")

    def ingress_bpf_del(self, index: int, preference: int, handle: int) -> None:
        body = self._filter(index, preference, handle) + _attr(TCA_KIND, b"bpf\0")
        self._send(RTM_DELTFILTER, 0, body, f"delete the eBPF filter of {index}")

    @staticmethod
    def _filter(index: int, preference: int, handle: int) -> bytes:
        protocol = socket.htons(ETH_P_ALL)
        return _TCMSG.pack(socket.AF_UNSPEC, index, handle, TC_H_INGRESS_CHILD, (preference << 16) | protocol)

    # --- reading -------------------------------------------------------------------------------------

    def link(self, index: int) -> Any | None:
        """One link's message (None when it does not exist)."""
        return self._get_link(_ifinfo(index, None), f"link {index}")

    def link_by_name(self, ifname: str) -> Any | None:
        body = _ifinfo(0, None) + _attr(IFLA_IFNAME, ifname.encode() + b"\0")
        return self._get_link(body, f"link {ifname}")

    def links(self) -> list[Any]:
        """Every link of the namespace, decoded (``get_attr('IFLA_IFNAME')``, ``['flags']``…)."""
        return self._send(RTM_GETLINK, NLM_F_DUMP, _ifinfo(0, None), "dump links")

    def _get_link(self, body: bytes, what: str) -> Any | None:
        try:
            found = self._send(RTM_GETLINK, 0, body, what)
        except NetlinkError as exc:
            if exc.code == 19:  # ENODEV
                return None
            raise
        return found[0] if found else None

    # --- wire ----------------------------------------------------------------------------------------

    def _send(self, kind: int, flags: int, body: bytes, what: str) -> list[Any]:
        """Send one request and wait for its answer: the links it returned (reads), none (changes)."""
        self._sequence += 1
        header = _HEADER.pack(
            _HEADER.size + len(body), kind, NLM_F_REQUEST | NLM_F_ACK | flags, self._sequence, 0
        )
        self.sock.send(header + body)
        return self._replies(what)

    def _replies(self, what: str) -> list[Any]:
        replies: list[Any] = []
        while True:
            data = self.sock.recv(_BUFFER)
            offset = 0
            while offset + _HEADER.size <= len(data):
                length, reply, _flags, sequence, _pid = _HEADER.unpack_from(data, offset)
                if length < _HEADER.size:
                    break
                if sequence == self._sequence:
                    if reply == NLMSG_ERROR:
                        code = -_ERROR.unpack_from(data, offset + _HEADER.size)[0]
                        if code:
                            raise NetlinkError(code, what)
                        return replies
                    if reply == NLMSG_DONE:
                        return replies
                    if reply == RTM_NEWLINK:
                        link = ifinfmsg(data[offset : offset + length])
                        link.decode()
                        replies.append(link)
                offset += (length + 3) & ~3


def vxlan_data(vni: int, local: str, remote: str, port: int) -> bytes:
    """IFLA_INFO_DATA of a unicast VXLAN without learning: ``vni`` to ``remote`` from ``local``."""
    return (
        _u32(IFLA_VXLAN_ID, vni)
        + _attr(IFLA_VXLAN_LOCAL, socket.inet_aton(local))
        + _attr(IFLA_VXLAN_GROUP, socket.inet_aton(remote))
        + _attr(IFLA_VXLAN_PORT, struct.pack("!H", port))
        + _attr(IFLA_VXLAN_LEARNING, b"\0")
    )


def veth_peer(ifname: str, netns_fd: int, *, index: int = 0, mtu: int = 0) -> bytes:
    """IFLA_INFO_DATA of a veth: its peer ``ifname`` (at ``index``) born in namespace ``netns_fd``."""
    attrs = _attr(IFLA_IFNAME, ifname.encode() + b"\0") + _u32(IFLA_NET_NS_FD, netns_fd)
    attrs += _u32(IFLA_MTU, mtu) if mtu else b""
    return _attr(VETH_INFO_PEER, _ifinfo(index, None) + attrs)


def _ifinfo(index: int, up: bool | None) -> bytes:
    """The link message's fixed part; ``up`` None leaves the link's state alone."""
    if up is None:
        return _IFINFO.pack(socket.AF_UNSPEC, 0, index, 0, 0)
    return _IFINFO.pack(socket.AF_UNSPEC, 0, index, IFF_UP if up else 0, IFF_UP)


def _u32(kind: int, value: int) -> bytes:
    return _attr(kind, struct.pack("=I", value))


def _attr(kind: int, value: bytes) -> bytes:
    """One netlink attribute, padded to four bytes."""
    length = _ATTR.size + len(value)
    return _ATTR.pack(length, kind) + value + bytes(-length % 4)
