"""Route netlink requests on a plain socket, encoded with pyroute2's message classes.

pyroute2 0.9's ``IPRoute`` runs every request through asyncio and costs about a millisecond each (five
for a veth into another namespace); the data plane makes a dozen per EVC. The kernel answers the same
requests here in tens of microseconds, so the few kinds the driver needs are sent directly: create, change
and delete links (one at a time or a whole interface group), add an address, read one link or dump them.
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
from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

IFF_UP = 0x1
NLMSG_ERROR, NLMSG_DONE = 2, 3
_HEADER = struct.Struct("=IHHII")
_ERROR = struct.Struct("=i")
_TCMSG = struct.Struct("=BxxxiIII")  # family, ifindex, handle, parent, info
_ATTR = struct.Struct("=HH")
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
        data: list[tuple[str, Any]] | None = None,
    ) -> None:
        info: list[tuple[str, Any]] = [("IFLA_INFO_KIND", kind)]
        if data:
            info.append(("IFLA_INFO_DATA", {"attrs": data}))
        attrs: list[tuple[str, Any]] = [("IFLA_IFNAME", ifname), ("IFLA_LINKINFO", {"attrs": info})]
        attrs += [(name, value) for name, value in (("IFLA_MASTER", master), ("IFLA_GROUP", group)) if value]
        if mtu:
            attrs.append(("IFLA_MTU", mtu))
        self._link(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, index, attrs, up, f"create {ifname}")

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
            peer_attrs: list[tuple[str, Any]] = [("IFLA_IFNAME", peer), ("IFLA_NET_NS_FD", fd)]
            if mtu:
                peer_attrs.append(("IFLA_MTU", mtu))
            self.link_add(
                ifname,
                "veth",
                index=index,
                master=master,
                group=group,
                mtu=mtu,
                data=[("VETH_INFO_PEER", {"attrs": peer_attrs})],
            )
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
        attrs = [
            (name, value)
            for name, value in (("IFLA_MASTER", master), ("IFLA_GROUP", group), ("IFLA_IFNAME", ifname))
            if value is not None
        ]
        self._link(RTM_NEWLINK, 0, index, attrs, up, f"change link {index}")

    def link_del(self, index: int = 0, group: int = 0) -> None:
        """Delete one link, or (``index`` 0) every link of ``group`` as one batch."""
        attrs = [("IFLA_GROUP", group)] if group else []
        self._link(RTM_DELLINK, 0, index, attrs, None, f"delete link {index or f'group {group}'}")

    def addr_add(self, index: int, address: str, prefixlen: int) -> None:
        msg = ifaddrmsg()
        msg["family"] = socket.AF_INET
        msg["prefixlen"] = prefixlen
        msg["index"] = index
        msg["attrs"] = [("IFA_LOCAL", address), ("IFA_ADDRESS", address)]
        self._request(msg, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, f"address {address} on {index}")

    # --- traffic control: a direct-action eBPF filter on a clsact ingress ----------------------------

    def clsact(self, index: int) -> None:
        """``tc qdisc replace dev <index> clsact``."""
        body = _TCMSG.pack(socket.AF_UNSPEC, index, 0xFFFF0000, TC_H_CLSACT, 0) + _attr(TCA_KIND, b"clsact\0")
        self._raw(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE, body, f"clsact on {index}")

    def ingress_bpf(self, index: int, preference: int, handle: int, program_fd: int, name: str) -> None:
        """``tc filter replace dev <index> ingress pref <p> handle <h> bpf da fd <program>``."""
        options = (
            _attr(TCA_BPF_FD, struct.pack("=I", program_fd))
            + _attr(TCA_BPF_NAME, name.encode() + b"\0")
            + _attr(TCA_BPF_FLAGS, struct.pack("=I", TCA_BPF_FLAG_ACT_DIRECT))
        )
        body = (
            self._filter(index, preference, handle) + _attr(TCA_KIND, b"bpf\0") + _attr(TCA_OPTIONS, options)
        )
        self._raw(RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_REPLACE, body, f"eBPF filter on {index}")

    def ingress_bpf_del(self, index: int, preference: int, handle: int) -> None:
        body = self._filter(index, preference, handle) + _attr(TCA_KIND, b"bpf\0")
        self._raw(RTM_DELTFILTER, 0, body, f"delete the eBPF filter of {index}")

    @staticmethod
    def _filter(index: int, preference: int, handle: int) -> bytes:
        protocol = socket.htons(ETH_P_ALL)
        return _TCMSG.pack(socket.AF_UNSPEC, index, handle, TC_H_INGRESS_CHILD, (preference << 16) | protocol)

    # --- reading -------------------------------------------------------------------------------------

    def link(self, index: int) -> Any | None:
        """One link's message (None when it does not exist)."""
        msg = ifinfmsg()
        msg["index"] = index
        try:
            found = self._exchange(msg, RTM_GETLINK, 0, f"link {index}")
        except NetlinkError as exc:
            if exc.code == 19:  # ENODEV
                return None
            raise
        return found[0] if found else None

    def link_by_name(self, ifname: str) -> Any | None:
        msg = ifinfmsg()
        msg["attrs"] = [("IFLA_IFNAME", ifname)]
        try:
            found = self._exchange(msg, RTM_GETLINK, 0, f"link {ifname}")
        except NetlinkError as exc:
            if exc.code == 19:  # ENODEV
                return None
            raise
        return found[0] if found else None

    def links(self) -> list[Any]:
        """Every link of the namespace, decoded (``get_attr('IFLA_IFNAME')``, ``['flags']``…)."""
        return self._exchange(ifinfmsg(), RTM_GETLINK, NLM_F_DUMP, "dump links")

    # --- wire ----------------------------------------------------------------------------------------

    def _link(
        self, kind: int, flags: int, index: int, attrs: list[tuple[str, Any]], up: bool | None, what: str
    ) -> None:
        msg = ifinfmsg()
        msg["index"] = index
        if up is not None:
            msg["flags"] = IFF_UP if up else 0
            msg["change"] = IFF_UP
        msg["attrs"] = attrs
        self._request(msg, kind, flags, what)

    def _request(self, msg: Any, kind: int, flags: int, what: str) -> None:
        self._exchange(msg, kind, flags, what)

    def _exchange(self, msg: Any, kind: int, flags: int, what: str) -> list[Any]:
        self._sequence += 1
        msg["header"]["type"] = kind
        msg["header"]["flags"] = NLM_F_REQUEST | NLM_F_ACK | flags
        msg["header"]["sequence_number"] = self._sequence
        msg.encode()
        self.sock.send(msg.data)
        return self._replies(what)

    def _raw(self, kind: int, flags: int, body: bytes, what: str) -> None:
        """A request whose body is already encoded (traffic control: pyroute2 encodes its options per
        plugin, more than these few attributes need)."""
        self._sequence += 1
        header = _HEADER.pack(
            _HEADER.size + len(body), kind, NLM_F_REQUEST | NLM_F_ACK | flags, self._sequence, 0
        )
        self.sock.send(header + body)
        self._replies(what)

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


def _attr(kind: int, value: bytes) -> bytes:
    """One netlink attribute, padded to four bytes."""
    length = _ATTR.size + len(value)
    return _ATTR.pack(length, kind) + value + bytes(-length % 4)
