"""Two real domains in one test: the provider (this process's ``domain`` fixture, served in a thread) and
a partner (``lso serve --demo`` in a child process, with its own data directory and database), talking real
HTTP on loopback. DBOS is one per process, hence the child process for the second domain."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from lso.security.admin import ADMIN_CLIENT, admin_secret
from lso.settings import Settings
from tests.harness import DEADLINE_S, STARTUP_DEADLINE_S, free_port, healthy, party_client, wait_until

PARTNER_FOOTPRINT = "partner"
PARTNER_BUYER = ("carrier-x", "carrier-x-secret")
"""The buyer party a demo domain seeds for providers that order from it over SONATA."""


@dataclass(frozen=True)
class PartnerDomain:
    base_url: str
    data_dir: Path
    process: subprocess.Popen[bytes]


@contextmanager
def partner_domain(data_dir: Path, port: int | None = None) -> Iterator[PartnerDomain]:
    """A partner domain: ``lso serve --demo --name partner --footprint partner`` (sites in Paris and Lyon,
    an ENNI with the buyer ``carrier-x``) in a child process on a free loopback port; stopped on exit."""
    port = port or free_port()
    command = [sys.executable, "-m", "lso.cli", "serve", "--demo", "--name", "partner"]
    command += ["--port", str(port), "--data-dir", str(data_dir), "--footprint", PARTNER_FOOTPRINT]
    env = {k: v for k, v in os.environ.items() if k != "LSO_DATABASE_URL"}  # its own embedded database
    log = open(data_dir.parent / f"{data_dir.name}-partner-{port}.log", "ab")  # noqa: SIM115 - closed below
    process = subprocess.Popen(command, stdout=log, stderr=log, env=env)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: healthy(base_url) or process.poll() is not None, STARTUP_DEADLINE_S)
        if process.poll() is not None:
            raise RuntimeError(f"the partner domain exited with {process.returncode}; see {log.name}")
        yield PartnerDomain(base_url, data_dir, process)
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=DEADLINE_S)
        log.close()


def admin_client(settings: Settings) -> httpx.Client:
    """The provider's administrator (``lso partner`` calls the admin API as this client)."""
    return party_client(settings.base_url, ADMIN_CLIENT, admin_secret(settings.data_dir))
