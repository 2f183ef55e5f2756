"""Fixtures of the linux driver tests: a driver on its own database and a kernel prefix of its own, and a
check after every test that nothing of that prefix is left in the kernel."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from lso.db import Database, migrate
from lso.ecm.drivers import BandwidthProfileFlow, ElementConfiguration, UniPortConfiguration
from lso.ecm.drivers.linux import capabilities, lab
from lso.ecm.drivers.linux.driver import LinuxDriver
from lso.ecm.drivers.linux.mounts import NETNS_DIR
from lso.ecm.drivers.sim import seed
from lso.footprint import demo_footprint
from tests.conftest import require


@cache
def _capabilities() -> capabilities.Capabilities:
    return capabilities.detect()


def require_linux() -> None:
    """Skip (fail under LSO_REQUIRE_ALL=1) where this host cannot run the linux driver."""
    found = _capabilities()
    require(found.ok, found.explain())


def leftovers(prefix: str) -> list[str]:
    """Namespaces of ``prefix`` in the kernel (``ip netns list``)."""
    return (
        sorted(p.name for p in NETNS_DIR.iterdir() if p.name.startswith(f"{prefix}-"))
        if NETNS_DIR.exists()
        else []
    )


@pytest.fixture
def prefix() -> Iterator[str]:
    """A kernel name prefix for this test only; afterwards nothing of it may remain."""
    require_linux()
    name = f"lsot{uuid.uuid4().hex[:4]}"
    yield name
    left = leftovers(name)
    lab.clean(name)
    assert not leftovers(name)
    assert not left, f"the test left namespaces behind: {left}"


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'ecm.db'}"
    migrate(url)
    db = Database(url)
    with db.session() as session:
        seed(session, demo_footprint())
    yield db
    db.dispose()


@pytest.fixture
def driver(database: Database, prefix: str) -> Iterator[LinuxDriver]:
    """A started linux driver (alarms are stored, not delivered: there is no ICM here); torn down by
    ``lab clean`` as an operator would, then checked to have left nothing."""
    linux = LinuxDriver(database, prefix, dispatch=lambda _ids: None)
    linux.start()
    linux.watch()
    yield linux
    linux.stop()
    lab.clean(prefix)


def uni(port: str, cir: int = 50_000_000, eir: int = 0) -> UniPortConfiguration:
    return UniPortConfiguration(
        port=port,
        ingressBandwidthProfile=BandwidthProfileFlow(
            cir=cir, cbs=200_000, eir=eir, ebs=200_000 if eir else 0
        ),
    )


def epl(
    driver: LinuxDriver, service: str, vni: int, a: tuple[str, str], path: list[str], z: tuple[str, str]
) -> None:
    """Configure an EPL from UNI ``a`` along ``path`` (the elements between) to UNI ``z``."""
    hops = [a[0], *path, z[0]]
    for i, element in enumerate(hops):
        peers = [hops[j] for j in (i - 1, i + 1) if 0 <= j < len(hops)]
        ports = [uni(a[1])] if element == a[0] else [uni(z[1])] if element == z[0] else []
        driver.configure(element, service, ElementConfiguration(vni=vni, uniPorts=ports, nniPeers=peers))
