"""``lso serve`` in child processes: a partner's domain, or some of this domain's entities.

DBOS is one per process, so a second domain — or a second process of the same domain — on one machine is a
child process with its own port; it is stopped when the block ends.

A domain spread over processes (:func:`spread`) runs each entity's APIs and durable workflows in one of
them, all on the domain's one database: BUS, SOF, ICM and ECM only ever call each other over HTTP, so a
call to an entity served elsewhere just goes to that process's address. Each process keeps its own DBOS
system database (a file per process embedded, a schema per process on PostgreSQL), so none recovers
another's workflows; the one Python interpreter a process has is what limits a domain to one core.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from lso.settings import ENTITY_NAMES

PROCESS_LAYOUTS: dict[int, tuple[tuple[str, ...], ...]] = {
    1: (ENTITY_NAMES,),
    2: (("bus",), ("sof", "icm", "ecm")),
    3: (("bus",), ("sof",), ("icm", "ecm")),
}
"""The entities each process of a domain serves, by how many processes it runs in. BUS — the domain's
front: CANTATA, SONATA and the token endpoint its customers use — is in the first, the calling process."""

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class ServeProcess:
    base_url: str
    process: subprocess.Popen[bytes]


@contextmanager
def serve_process(
    data_dir: Path, port: int, options: list[str], log: Path, env: dict[str, str] | None = None
) -> Iterator[ServeProcess]:
    """``lso serve --port PORT --data-dir DATA_DIR OPTIONS…``, healthy when the block starts; its standard
    output and error go to ``log``."""
    data_dir.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "lso.cli", "serve", "--port", str(port), "--data-dir", str(data_dir)]
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [*command, *options],
            stdout=out,
            stderr=out,
            env=env or dict(os.environ),
            preexec_fn=_end_with_parent,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _healthy(base_url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"lso serve {' '.join(options)} did not start; see {log}")
            time.sleep(0.2)  # polling a process that is starting, with a deadline
        yield ServeProcess(base_url, process)
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=STOP_TIMEOUT_S)


def _healthy(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@dataclass(frozen=True)
class Spread:
    """What the calling process serves of a domain spread over processes, and where the rest is."""

    entities: tuple[str, ...]
    """For ``Settings.entities``: empty when this process serves the whole domain."""
    peers: str
    """For ``Settings.peers``: ``<entity>=<base URL>`` of every entity served by a child."""
    pids: list[int]
    """This process's id, then the children's."""


@contextmanager
def spread(
    data_dir: Path, port: int, processes: int, options: list[str], env: dict[str, str] | None = None
) -> Iterator[Spread]:
    """Start the children of a domain served by ``processes`` processes (:data:`PROCESS_LAYOUTS`), each
    ``lso serve OPTIONS --entities … --peer …`` on a loopback port of its own with its log in ``data_dir``;
    the calling process is to serve the first group on ``port``. The children stop when the block ends."""
    layout = PROCESS_LAYOUTS[processes]
    urls = [
        f"http://127.0.0.1:{port}",
        *(f"http://127.0.0.1:{p}" for p in _child_ports(data_dir, layout[1:])),
    ]
    where = {entity: url for entities, url in zip(layout, urls, strict=True) for entity in entities}
    pids = [os.getpid()]
    with ExitStack() as children:
        # the last first: an entity's start may call those after it (SOF subscribes to ICM's events)
        for entities, url in reversed(list(zip(layout[1:], urls[1:], strict=True))):
            others = [f"--peer={entity}={where[entity]}" for entity in ENTITY_NAMES if entity not in entities]
            command = [*options, "--entities", ",".join(entities), *others]
            log = data_dir / f"{'-'.join(entities)}.log"
            child = children.enter_context(serve_process(data_dir, _port(url), command, log, env))
            pids.append(child.process.pid)
        peers = ",".join(f"{entity}={url}" for entity, url in where.items() if entity not in layout[0])
        yield Spread(layout[0] if processes > 1 else (), peers, pids)


_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def _end_with_parent() -> None:
    """In the child before exec: be sent SIGTERM when the process that started it dies, even by kill -9.
    A child left running would still serve its entities' workflows while a restarted parent starts their
    recovery in a new child — the same workflows twice. (The signal follows the starting thread's end, so
    children are started from the thread that lives as long as the process: the main one.)"""
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _child_ports(data_dir: Path, groups: tuple[tuple[str, ...], ...]) -> list[int]:
    """The children's ports: free ones the first time, the same ever after (``processes.json``). Entities
    hand out their address — a hub's callback, a resource's href — and keep it, so a restarted child must
    answer where it did."""
    path = data_dir / "processes.json"
    known: dict[str, int] = json.loads(path.read_text()) if path.exists() else {}
    ports = {"-".join(group): known.get("-".join(group)) or free_port() for group in groups}
    if ports.keys() - known.keys():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(known | ports, indent=2))
    return list(ports.values())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port(url: str) -> int:
    return int(url.rpartition(":")[2])
