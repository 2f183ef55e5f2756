"""An ENNI between two domains on the linux network: a veth between the provider's ENNI element and the
partner's, created by whichever domain starts second; an OVC End Point on it is identified by its S-VLAN
ID on both sides, so a provider's segment and the partner's OVC joined there carry traffic CE to CE."""

from __future__ import annotations

import functools
import json
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from lso.db import Database, migrate
from lso.ecm.drivers import CounterQuery, ElementConfiguration, ServicePort
from lso.ecm.drivers.linux import lab
from lso.ecm.drivers.linux.driver import LinuxDriver
from lso.ecm.drivers.linux.plane import EnniPeer, enni_peers, ingress_ifname
from lso.ecm.drivers.linux.policer import BPF_FS
from lso.ecm.drivers.linux.probe import run_probe
from lso.ecm.drivers.sim import seed
from lso.footprint import demo_footprint, named_footprint
from tests.ecm.linux.conftest import leftovers, require_linux, uni
from tests.harness import wait_until

PROVIDER_UNI = ServicePort(element="pe-ldn-1", port="uni-1")
PARTNER_UNI = ServicePort(element="pe-par-2", port="uni-1")
PROVIDER_ENNI = ServicePort(element="pe-ldn-2", port="enni-1")
# The provider's segment to its ENNI, and the partner's OVC from its ENNI (footprints demo and partner).
PROVIDER_PATH = ("pe-ldn-1", "p-ldn", "pe-ldn-2")
PARTNER_PATH = ("pe-par-1", "p-par", "pe-par-2")


@pytest.fixture
def prefixes() -> Iterator[tuple[str, str]]:
    """Kernel prefixes of the provider and the partner; afterwards nothing of either may remain."""
    require_linux()
    names = (f"lsot{uuid.uuid4().hex[:4]}", f"lsot{uuid.uuid4().hex[:4]}")
    yield names
    left = [leftovers(name) for name in names]
    for name in names:
        lab.clean(name)
    assert left == [[], []], f"the test left namespaces behind: {left}"


@contextmanager
def linux_domain(
    tmp: Path, prefix: str, footprint: str, ennis: dict[tuple[str, str], EnniPeer]
) -> Iterator[LinuxDriver]:
    """A started linux driver of a domain with ``footprint`` (its database kept across restarts)."""
    path = tmp / f"{prefix}.db"
    url = f"sqlite:///{path}"
    if not path.exists():
        migrate(url)
        with Database(url).session() as session:
            seed(session, demo_footprint() if footprint == "demo" else named_footprint(footprint))
    db = Database(url)
    driver = LinuxDriver(db, prefix, dispatch=lambda _ids: None, ennis=ennis)
    try:
        driver.start()
        yield driver
    finally:
        driver.stop()
        db.dispose()


def segment(
    driver: LinuxDriver,
    service: str,
    vni: int,
    path: tuple[str, ...],
    uni_end: ServicePort,
    s_vlan: int = 150,
) -> None:
    """A service along ``path`` between ``uni_end`` and its OVC End Point (``s_vlan``) at the ENNI."""
    enni = uni("enni-1").model_copy(update={"sVlanId": s_vlan})
    for i, element in enumerate(path):
        peers = [path[j] for j in (i - 1, i + 1) if 0 <= j < len(path)]
        ports = (
            [uni(uni_end.port)] if element == uni_end.element else [enni] if i in (0, len(path) - 1) else []
        )
        driver.configure(element, service, ElementConfiguration(vni=vni, uniPorts=ports, nniPeers=peers))


def interfaces(driver: LinuxDriver, element: str) -> set[str]:
    return driver.kernel.call(driver.kernel.names, driver.plane.ns(element))


def vxlan_id(driver: LinuxDriver, element: str, ifname: str) -> int:
    """The VNI of VXLAN ``ifname`` as the kernel holds it."""
    [link] = [
        m
        for m in driver.kernel.call(driver.plane.ns(element).nl.links)
        if m.get_attr("IFLA_IFNAME") == ifname
    ]
    return int(link.get_attr("IFLA_LINKINFO").get_attr("IFLA_INFO_DATA").get_attr("IFLA_VXLAN_ID"))


def test_an_off_net_service_carries_traffic_across_the_enni_veth(
    tmp_path: Path, prefixes: tuple[str, str]
) -> None:
    provider_prefix, partner_prefix = prefixes
    to_partner = enni_peers(f"pe-ldn-2/enni-1={partner_prefix}/pe-par-1/enni-1")
    to_provider = enni_peers(f"pe-par-1/enni-1={provider_prefix}/pe-ldn-2/enni-1")
    provider_domain = functools.partial(linux_domain, tmp_path, provider_prefix, "demo", to_partner)
    with ExitStack() as running:
        provider = running.enter_context(provider_domain())
        # The partner is not running yet: there is no veth, and the provider's segment waits for it.
        assert "n1" not in interfaces(provider, "pe-ldn-2")
        segment(provider, "evc-1", 7001, PROVIDER_PATH, PROVIDER_UNI)
        # Its OVC End Point has a test head at the ENNI: the segment is measurable on its own.
        assert provider.measure("evc-1", PROVIDER_UNI, PROVIDER_ENNI)["frameLossRatio"] == 0
        with linux_domain(tmp_path, partner_prefix, "partner", to_provider) as partner:
            assert "n1" in interfaces(partner, "pe-par-1")  # made by the partner, which started second
            segment(partner, "ovc-1", 9001, PARTNER_PATH, PARTNER_UNI)
            a, z = provider.endpoint(PROVIDER_UNI), partner.endpoint(PARTNER_UNI)
            assert a.address != z.address

            result = run_probe(a, z, 2_000_000, 500, 0.5)

            assert result.frames_sent > 0
            assert result.loss_ratio == 0
            # The frames entered the partner's OVC End Point at the ENNI (its VXLAN), counted there.
            [counters] = partner.counters([CounterQuery(element="pe-par-1", serviceId="ovc-1")])
            assert counters["ingress"]["frames"] >= result.frames_received

            # A second service on the same ENNI, S-VLAN 151: its End Points meet each other, and only.
            second_a, second_z = (
                ServicePort(element="pe-ldn-1", port="uni-2"),
                ServicePort(element="pe-par-2", port="uni-2"),
            )
            segment(provider, "evc-2", 7002, PROVIDER_PATH, second_a, s_vlan=151)
            segment(partner, "ovc-2", 9002, PARTNER_PATH, second_z, s_vlan=151)
            second = provider.endpoint(second_a), partner.endpoint(second_z)
            assert run_probe(*second, 2_000_000, 500, 0.3).loss_ratio == 0
            assert run_probe(a, second[1], 1_000_000, 500, 0.2).frames_received == 0

            # The provider restarting finds the veth and keeps it: still one, still carrying the service.
            running.close()
            provider = running.enter_context(provider_domain())
            assert "n1" in interfaces(provider, "pe-ldn-2")
            assert run_probe(a, z, 2_000_000, 500, 0.3).loss_ratio == 0
            ovc_vxlan = ingress_ifname(7002, "enni-1")
            assert provider.plane.ns("pe-ldn-2").interfaces[ovc_vxlan].tunnel == 151  # read back at start

            # The second service moves to S-VLAN 152 on both sides: its OVC End Points' VXLANs follow.
            segment(provider, "evc-2", 7002, PROVIDER_PATH, second_a, s_vlan=152)
            segment(partner, "ovc-2", 9002, PARTNER_PATH, second_z, s_vlan=152)
            assert vxlan_id(provider, "pe-ldn-2", ovc_vxlan) == 152
            assert run_probe(*second, 2_000_000, 500, 0.3).loss_ratio == 0
            # The old VXLAN's policer went with it: one profile per OVC End Point, none left behind.
            profiles = BPF_FS / provider.prefix / provider.plane.topology.element_ns("pe-ldn-2") / "profiles"
            dumped = subprocess.run(
                ["bpftool", "-j", "map", "dump", "pinned", str(profiles)], capture_output=True
            )
            assert len(json.loads(dumped.stdout)) == 2
        # Removing the partner's namespaces takes the veth from the provider's side too.
        lab.clean(partner_prefix)
        wait_until(lambda: "n1" not in interfaces(provider, "pe-ldn-2"))
    lab.clean(provider_prefix)
