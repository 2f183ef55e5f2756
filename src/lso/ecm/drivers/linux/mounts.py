"""Named network namespaces: made, entered, renamed and removed the way ``ip netns`` does.

A named namespace is a bind mount of a thread's ``/proc/thread-self/ns/net`` on ``/run/netns/<name>``.
A thread enters one only to open a netlink socket there (the socket stays in the namespace it was born
in) and always comes back to the host's namespace, given as a descriptor ``host``.
"""

from __future__ import annotations

import ctypes
import errno
import logging
import os
import queue
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

NETNS_DIR = Path("/run/netns")
CLONE_NEWNET = 0x40000000
MS_BIND = 4096
MS_REC = 0x4000
MS_SHARED = 1 << 20
MNT_DETACH = 2
# Sysctls of every namespace we create: no IPv6, whose neighbour discovery would add frames that neither
# the counters nor the probe expect. Only the default, which every interface made afterwards takes (all
# of ours are): the new namespace holds nothing but loopback yet, and setting ``all`` takes the kernel's
# routing lock (busy-retried while another thread holds it, ≈ 1 ms of CPU per namespace under load).
SYSCTLS = {"ipv6/conf/default/disable_ipv6": "1"}
_libc = ctypes.CDLL(None, use_errno=True)
log = logging.getLogger(__name__)


class KernelError(Exception):
    """A namespace or interface operation the kernel refused."""


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise KernelError(f"{what}: {os.strerror(code)}")


_run_dir_ready = threading.Event()
_run_dir_lock = threading.Lock()


def prepare_run_dir() -> None:
    """Make ``/run/netns`` a shared mount point of its own before naming a namespace in it, as
    ``ip netns add`` does. Otherwise the first ``ip netns add`` on the host (anyone's) bind-mounts the
    directory over itself and hides the names made before underneath: their files can then be neither
    unmounted (not a mount point, seen from above) nor removed (EBUSY), and the namespaces never go."""
    if _run_dir_ready.is_set():
        return
    with _run_dir_lock:
        if _run_dir_ready.is_set():
            return
        NETNS_DIR.mkdir(parents=True, exist_ok=True)
        run_dir = str(NETNS_DIR).encode()
        if _libc.mount(b"none", run_dir, b"none", MS_SHARED | MS_REC, None) != 0:
            if ctypes.get_errno() != errno.EINVAL:  # EINVAL: not a mount point yet
                _check(-1, f"make {NETNS_DIR} shared")
            _check(
                _libc.mount(run_dir, run_dir, b"none", MS_BIND | MS_REC, None), f"bind mount of {NETNS_DIR}"
            )
            _check(
                _libc.mount(b"none", run_dir, b"none", MS_SHARED | MS_REC, None), f"make {NETNS_DIR} shared"
            )
        _run_dir_ready.set()


def _unshare() -> None:
    """The calling thread enters a new namespace, set up with :data:`SYSCTLS`."""
    _check(_libc.unshare(CLONE_NEWNET), "unshare")
    for key, value in SYSCTLS.items():
        Path("/proc/sys/net", key).write_text(value)


@contextmanager
def inside(name: str, host: int, create: bool = False) -> Iterator[None]:
    """The calling thread enters namespace ``name`` (creating it) and always comes back to ``host``."""
    path = NETNS_DIR / name
    try:  # going back is harmless where entering failed: the thread is still in ``host`` then
        if create:
            prepare_run_dir()
            path.touch()
            _unshare()
            _check(
                _libc.mount(b"/proc/thread-self/ns/net", str(path).encode(), b"none", MS_BIND, None),
                f"bind mount of {name}",
            )
        else:
            fd = os.open(path, os.O_RDONLY)
            try:
                _check(_libc.setns(fd, CLONE_NEWNET), f"setns {name}")
            finally:
                os.close(fd)
        yield
    finally:
        _check(_libc.setns(host, CLONE_NEWNET), "setns back to the host namespace")


def netlink_socket(name: str, host: int, create: bool = False, groups: int = 0) -> socket.socket:
    """A route netlink socket in namespace ``name`` (subscribed to ``groups`` when given)."""
    with inside(name, host, create):
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW if groups else socket.SOCK_DGRAM, 0)
    if groups:
        sock.bind((0, groups))
    return sock


def unnamed_netlink_socket(host: int) -> tuple[socket.socket, int]:
    """A new namespace without a name: a route netlink socket in it and a descriptor of it. Either keeps it
    alive; once both are closed the kernel deletes it, so nothing of it outlives the process unless
    :meth:`Mounter.bind_later` names it (a name costs a mount now and an unmount later)."""
    try:
        _unshare()
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 0)
        try:
            fd = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        except OSError:
            sock.close()
            raise
    finally:
        _check(_libc.setns(host, CLONE_NEWNET), "setns back to the host namespace")
    return sock, fd


def listed(prefix: str) -> list[str]:
    """Every namespace whose name starts with ``<prefix>-``."""
    if not NETNS_DIR.exists():
        return []
    return sorted(p.name for p in NETNS_DIR.iterdir() if p.name.startswith(f"{prefix}-"))


def exists(name: str) -> bool:
    return (NETNS_DIR / name).exists()


def unmount(name: str) -> None:
    """Drop the name of a namespace; the kernel deletes it (and its interfaces) once nothing holds it."""
    path = NETNS_DIR / name
    if _libc.umount2(str(path).encode(), MNT_DETACH) != 0 and ctypes.get_errno() not in (
        errno.EINVAL,
        errno.ENOENT,
    ):
        raise KernelError(f"umount {path}: {os.strerror(ctypes.get_errno())}")
    path.unlink(missing_ok=True)


def bind(fd: int, new: str) -> None:
    """Name the namespace of descriptor ``fd`` ``new``."""
    path = NETNS_DIR / new
    prepare_run_dir()
    path.touch()
    _check(_libc.mount(f"/proc/self/fd/{fd}".encode(), str(path).encode(), b"none", MS_BIND, None), "mount")


class Mounter:
    """Adds and drops namespace names on a thread of its own, in the order asked.

    An unmount waits for an RCU grace period (milliseconds, more on a busy host) before it returns, and a
    bind mount contends with the pool's new namespaces for the kernel's mount lock: the kernel thread
    hands both here instead of waiting for each. A name is only a handle: a host taken from the pool
    forwards before its customer-edge name exists. Whoever opens a namespace by name waits for it first
    (:meth:`wait`): a pending unmount would take a new mount away, a pending mount is not there yet.
    """

    def __init__(self, name: str) -> None:
        self._pending: dict[str, int] = {}
        self._queue: queue.SimpleQueue[tuple[str, int | None] | None] = queue.SimpleQueue()
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def unmount_later(self, name: str) -> None:
        self._enqueue(name, None)

    def bind_later(self, fd: int, new: str) -> None:
        """Name the namespace of descriptor ``fd`` ``new``, then close ``fd`` (this thread owns it now)."""
        self._enqueue(new, fd)

    def wait(self, name: str | None = None) -> None:
        """Until what is queued for ``name`` (for every name, when None) is done."""
        with self._changed:
            while (name in self._pending) if name is not None else self._pending:
                self._changed.wait()

    def close(self) -> None:
        """Do what is pending, then stop."""
        self._queue.put(None)
        self._thread.join()

    def _enqueue(self, name: str, source: int | None) -> None:
        with self._changed:
            self._pending[name] = self._pending.get(name, 0) + 1
        self._queue.put((name, source))

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            name, source = item
            try:
                if source is None:
                    unmount(name)
                else:
                    try:
                        bind(source, name)
                    finally:
                        os.close(source)
            except (KernelError, OSError):  # this thread serves every later name: log and go on
                log.exception("could not %s namespace %s", "remove" if source is None else "name", name)
            finally:
                with self._changed:
                    self._pending[name] -= 1
                    if not self._pending[name]:
                        del self._pending[name]
                    self._changed.notify_all()
