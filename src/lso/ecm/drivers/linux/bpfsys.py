"""The bpf(2) system call, for the policer: pinned objects and map elements, with no process per call.

(tcx, Linux ≥ 6.6, would hook the program on an interface with one bpf(2) call instead of tc's two netlink
requests; measured here, each attach and detach then waits for an RCU grace period — ≈ 10 ms against
≈ 1 ms — so the policer stays with tc.)
"""

from __future__ import annotations

import ctypes
import os
import platform
import struct
from functools import cache
from pathlib import Path

_BPF_SYSCALL = {"x86_64": 321, "aarch64": 280, "riscv64": 280}
_MAP_LOOKUP, _MAP_UPDATE, _MAP_DELETE, _MAP_NEXT_KEY, _OBJ_GET = 1, 2, 3, 4, 7  # enum bpf_cmd


class BpfError(RuntimeError):
    """The kernel refused a bpf(2) command."""


def obj_get(path: Path) -> int:
    """A new descriptor of the object pinned at ``path``."""
    name = ctypes.create_string_buffer(os.fsencode(path))
    return _bpf(_OBJ_GET, struct.pack("<QII", ctypes.addressof(name), 0, 0), str(path))


class PinnedMap:
    """A pinned map keyed by ifindex (u32), open until closed (or for the duration of a ``with`` block)."""

    def __init__(self, path: Path, value_size: int, *, per_cpu: bool = False) -> None:
        self.value_size = value_size * possible_cpus() if per_cpu else value_size
        self.fd = obj_get(path)

    def __enter__(self) -> PinnedMap:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        os.close(self.fd)

    def _element(self, command: int, key: int | None, out: ctypes.Array[ctypes.c_char] | None) -> int:
        """One element command; the kernel wants every attribute field after the command's last zero."""
        key_buffer = ctypes.create_string_buffer(struct.pack("<I", key or 0))
        key_address = ctypes.addressof(key_buffer) if key is not None else 0
        attr = struct.pack("<I4xQQQ", self.fd, key_address, ctypes.addressof(out) if out else 0, 0)
        return _bpf(command, attr, None)

    def update(self, key: int, value: bytes) -> None:
        if self._element(_MAP_UPDATE, key, ctypes.create_string_buffer(value, len(value))) < 0:
            raise BpfError(f"bpf map update: {os.strerror(ctypes.get_errno())}")

    def delete(self, key: int) -> None:
        self._element(_MAP_DELETE, key, None)  # absent already: fine

    def lookup(self, key: int) -> bytes | None:
        value = ctypes.create_string_buffer(self.value_size)
        return value.raw if self._element(_MAP_LOOKUP, key, value) == 0 else None

    def ifindexes(self) -> list[int]:
        found: list[int] = []
        following = ctypes.create_string_buffer(4)
        while self._element(_MAP_NEXT_KEY, found[-1] if found else None, following) == 0:
            found.append(struct.unpack("<I", following.raw)[0])
        return found


@cache
def possible_cpus() -> int:
    """Per-CPU map values come one per possible CPU (``0-3,6``-style list in sysfs)."""
    ranges = Path("/sys/devices/system/cpu/possible").read_text().strip().split(",")
    return sum(int(r.split("-")[-1]) - int(r.split("-")[0]) + 1 for r in ranges)


def _bpf(command: int, attr: bytes, what: str | None) -> int:
    """bpf(2); with ``what``, a failure raises (else the caller reads -1 and errno)."""
    buffer = ctypes.create_string_buffer(attr, len(attr))
    result = int(_libc().syscall(_BPF_SYSCALL[platform.machine()], command, buffer, len(attr)))
    if result < 0 and what is not None:
        raise BpfError(f"bpf({command}) {what}: {os.strerror(ctypes.get_errno())}")
    return result


@cache
def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    libc.syscall.argtypes = [ctypes.c_long, ctypes.c_int, ctypes.c_void_p, ctypes.c_uint]
    return libc
