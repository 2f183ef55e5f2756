"""The linux driver through its ADAGIO contract: configuration really carries traffic between the CE hosts."""

from __future__ import annotations

import json
import subprocess

import pytest

from lso.db import Database
from lso.ecm.drivers import (
    CounterQuery,
    DriverError,
    ElementConfiguration,
    Impairment,
    ServicePort,
    ServiceTestRequest,
)
from lso.ecm.drivers.linux import driver as linux_driver
from lso.ecm.drivers.linux.driver import LinuxDriver
from lso.ecm.drivers.linux.hosts import READY_INDEXES
from lso.ecm.drivers.linux.policer import BPF_FS
from lso.ecm.drivers.linux.probe import run_probe
from tests.ecm.linux.conftest import epl, leftovers, uni
from tests.harness import wait_until

A = ServicePort(element="pe-ldn-1", port="uni-1")
Z = ServicePort(element="pe-bri-1", port="uni-2")


def test_an_epl_carries_probe_traffic_between_its_ce_hosts(driver: LinuxDriver) -> None:
    epl(driver, "svc-1", 5001, ("pe-ldn-1", "uni-1"), ["p-ldn"], ("pe-bri-1", "uni-2"))
    result = run_probe(driver.endpoint(A), driver.endpoint(Z), 2_000_000, 500, 0.5)
    assert result.frames_sent > 0
    assert result.loss_ratio == 0
    measurement = driver.measure("svc-1", A, Z)
    assert measurement["path"] == ["pe-ldn-1", "p-ldn", "pe-bri-1"]
    assert measurement["frameLossRatio"] == 0


def _interfaces(driver: LinuxDriver, element: str) -> set[str]:
    """The element's interfaces but the ends of the CE hosts kept ready there (at READY_INDEXES, hosts.py)."""
    links = driver.kernel.call(driver.plane.ns(element).nl.links)
    return {link.get_attr("IFLA_IFNAME") for link in links if link["index"] < READY_INDEXES}


def test_counters_agree_with_what_the_probe_sent_and_received(driver: LinuxDriver) -> None:
    epl(driver, "svc-1", 5001, ("pe-ldn-1", "uni-1"), ["p-ldn"], ("pe-bri-1", "uni-2"))
    query = [CounterQuery(element="pe-ldn-1", serviceId="svc-1"), CounterQuery(element="pe-bri-1")]
    before = {c["element"]: c for c in driver.counters(query)}
    result = run_probe(driver.endpoint(A), driver.endpoint(Z), 2_000_000, 500, 0.5)
    after = {c["element"]: c for c in driver.counters(query)}
    assert result.frames_received == result.frames_sent > 0

    def delta(element: str, side: str, key: str) -> int:
        return int(after[element][side][key] - before[element][side][key])

    # Beyond the probe's frames only the CE hosts' ARP exchange may pass (a few frames).
    ingress = delta("pe-ldn-1", "ingress", "greenFrames") + delta("pe-ldn-1", "ingress", "yellowFrames")
    assert result.frames_sent <= ingress <= result.frames_sent + 4
    assert result.frames_sent <= delta("pe-ldn-1", "ingress", "frames") <= result.frames_sent + 4
    assert result.frames_received <= delta("pe-bri-1", "egress", "frames") <= result.frames_received + 4
    assert delta("pe-ldn-1", "ingress", "redFrames") == 0


def test_a_link_failure_is_seen_from_netlink_and_alarmed_then_cleared(driver: LinuxDriver) -> None:
    epl(driver, "svc-1", 5001, ("pe-ldn-1", "uni-1"), ["p-ldn"], ("pe-bri-1", "uni-2"))
    alarm = driver.inject_fault("link", "p-ldn--pe-ldn-1")
    assert alarm["source"] == "link:p-ldn--pe-ldn-1"
    assert alarm["state"] == "raised"
    assert run_probe(driver.endpoint(A), driver.endpoint(Z), 1_000_000, 500, 0.2).frames_received == 0
    driver.clear_fault("link", "pe-ldn-1--p-ldn")
    wait_until(lambda: driver.alarms(None, "cleared"), timeout=5)
    assert driver.alarms(None, "raised") == []
    wait_until(lambda: run_probe(driver.endpoint(A), driver.endpoint(Z), 1_000_000, 500, 0.1).loss_ratio == 0)


def test_the_service_follows_its_configured_path(driver: LinuxDriver) -> None:
    """Moving the service onto another path (as ICM's reroute does) moves the traffic with it."""
    epl(driver, "svc-1", 5001, ("pe-ldn-1", "uni-1"), ["p-ldn"], ("pe-bri-1", "uni-2"))
    driver.inject_fault("link", "pe-ldn-1--p-ldn")
    epl(driver, "svc-1", 5001, ("pe-ldn-1", "uni-1"), ["p-bir"], ("pe-bri-1", "uni-2"))
    driver.unconfigure("p-ldn", "svc-1")
    driver.kernel.settle()
    result = run_probe(driver.endpoint(A), driver.endpoint(Z), 1_000_000, 500, 0.3)
    assert result.frames_received == result.frames_sent > 0
    assert driver.measure("svc-1", A, Z)["path"] == ["pe-ldn-1", "p-bir", "pe-bri-1"]
    assert "b5001" not in _interfaces(driver, "p-ldn")


def _ready_end(driver: LinuxDriver, element: str, ifname: str) -> int | None:
    """The index of the element's end of a CE host made ready for ``ifname`` (None: there is none)."""
    links = driver.kernel.call(driver.plane.ns(element).nl.links)
    found = [link["index"] for link in links if link.get_attr("IFLA_IFNAME") == ifname]
    return found[0] if found and found[0] >= READY_INDEXES else None


def test_a_uni_takes_the_host_made_ready_for_it(driver: LinuxDriver) -> None:
    """Hosts are made ahead for the next free UNIs, named for them: configuring one takes its host as it
    is (no namespace made, no interface renamed); once the service leaves, one is made ready again."""
    wait_until(lambda: _ready_end(driver, "pe-ldn-1", "u1") is not None, timeout=10)
    ready = _ready_end(driver, "pe-ldn-1", "u1")
    epl(driver, "svc-1", 5001, ("pe-ldn-1", "uni-1"), ["p-ldn"], ("pe-bri-1", "uni-2"))
    assert driver.plane.ns("pe-ldn-1").index("u1") == ready
    assert run_probe(driver.endpoint(A), driver.endpoint(Z), 1_000_000, 500, 0.2).loss_ratio == 0
    wait_until(lambda: _ready_end(driver, "pe-ldn-1", "u5") is not None, timeout=10)  # the next free UNI
    for element in ("pe-ldn-1", "p-ldn", "pe-bri-1"):
        driver.unconfigure(element, "svc-1")
    wait_until(lambda: _ready_end(driver, "pe-ldn-1", "u1") not in (None, ready), timeout=10)


def test_teardown_leaves_no_interface_map_or_namespace(driver: LinuxDriver) -> None:
    before = {e: _interfaces(driver, e) for e in ("pe-ldn-1", "p-ldn", "pe-bri-1")}
    epl(driver, "svc-1", 5001, ("pe-ldn-1", "uni-1"), ["p-ldn"], ("pe-bri-1", "uni-2"))
    assert "b5001" in _interfaces(driver, "p-ldn")
    assert driver.policer.counters(driver.plane.topology.element_ns("pe-ldn-1"))
    driver.unconfigure("p-ldn", "svc-1")  # forwarding stops before the call returns
    assert run_probe(driver.endpoint(A), driver.endpoint(Z), 1_000_000, 500, 0.1).frames_received == 0
    for element in ("pe-ldn-1", "pe-bri-1"):
        driver.unconfigure(element, "svc-1")
    driver.kernel.settle()  # the interfaces go right after
    # Each element keeps the service's bridge, renamed, down and without ports, as a spare for the next
    # service (the kernel takes ≈17 ms to delete a bridge); nothing else is left.
    spares = {e: _interfaces(driver, e) - before[e] for e in before}
    assert all(len(names) == 1 and next(iter(names)).startswith("s") for names in spares.values()), spares
    epl(driver, "svc-2", 5002, ("pe-ldn-1", "uni-1"), ["p-ldn"], ("pe-bri-1", "uni-2"))
    assert all("b5002" in _interfaces(driver, e) and not spares[e] & _interfaces(driver, e) for e in before)
    for element in before:
        driver.unconfigure(element, "svc-2")
    driver.kernel.settle()
    assert {e: _interfaces(driver, e) - spares[e] for e in before} == before
    assert not [n for n in leftovers(driver.prefix) if "-ce-" in n]
    # No policer entry is left; the element's policer program and (empty) maps stay with the element.
    assert not driver.policer.counters(driver.plane.topology.element_ns("pe-ldn-1"))
    profiles = BPF_FS / driver.prefix / driver.plane.topology.element_ns("pe-ldn-1") / "profiles"
    dumped = subprocess.run(["bpftool", "-j", "map", "dump", "pinned", str(profiles)], capture_output=True)
    assert json.loads(dumped.stdout) == []


def test_a_restart_rebuilds_what_is_missing_and_removes_what_is_stale(
    database: Database, driver: LinuxDriver
) -> None:
    epl(driver, "svc-1", 5001, ("pe-ldn-1", "uni-1"), ["p-ldn"], ("pe-bri-1", "uni-2"))
    driver.stop()  # as after kill -9: the kernel keeps what it had, the process forgets
    subprocess.run(["ip", "netns", "del", f"{driver.prefix}-p-ldn"], check=True)  # lost
    stale = f"{driver.prefix}-ce-pe-man-1-uni-9"
    subprocess.run(["ip", "netns", "add", stale], check=True)  # nobody configured it
    subprocess.run(
        ["ip", "-n", f"{driver.prefix}-pe-bri-1", "link", "add", "b777", "type", "bridge"], check=True
    )
    restarted = LinuxDriver(database, driver.prefix, dispatch=lambda _ids: None)
    restarted.start()
    try:
        assert stale not in leftovers(driver.prefix)
        assert "b777" not in _interfaces(restarted, "pe-bri-1")
        # The rebuilt links carry once the kernel has seen their carrier and the underlay's neighbours
        # (on a busy host, up to a second or two after the start).
        wait_until(
            lambda: (
                run_probe(restarted.endpoint(A), restarted.endpoint(Z), 1_000_000, 500, 0.3).loss_ratio == 0
            ),
            timeout=10,
        )
    finally:
        restarted.stop()


def test_impairments_are_refused_clearly(driver: LinuxDriver) -> None:
    with pytest.raises(DriverError) as refused:
        driver.impair("p-ldn", Impairment(extraDelayMs=5))
    assert refused.value.status == 501
    assert "netem" in refused.value.message


def test_port_and_element_faults_take_real_interfaces_down_and_alarm(driver: LinuxDriver) -> None:
    epl(driver, "svc-1", 5001, ("pe-ldn-1", "uni-1"), ["p-ldn"], ("pe-bri-1", "uni-2"))
    port = driver.inject_fault("port", "pe-bri-1/uni-2")  # raised by the link monitor
    assert (port["source"], port["probableCause"]) == ("port:pe-bri-1/uni-2", "lossOfSignal")
    assert run_probe(driver.endpoint(A), driver.endpoint(Z), 1_000_000, 500, 0.1).frames_received == 0
    element = driver.inject_fault("element", "p-ldn")
    assert element["source"] == "element:p-ldn"
    wait_until(lambda: {"link:p-ldn--pe-ldn-1", "link:p-ldn--pe-bri-1"} <= _raised(driver))
    driver.clear_fault("element", "p-ldn")
    wait_until(lambda: _raised(driver) == {"port:pe-bri-1/uni-2"})  # the port is still down
    driver.clear_fault("port", "pe-bri-1/uni-2")
    wait_until(lambda: not _raised(driver))
    wait_until(lambda: run_probe(driver.endpoint(A), driver.endpoint(Z), 1_000_000, 500, 0.1).loss_ratio == 0)


def _raised(driver: LinuxDriver) -> set[str]:
    return {a["source"] for a in driver.alarms(None, "raised")}


def test_a_spare_bridge_carries_no_port_of_its_former_service(driver: LinuxDriver) -> None:
    """A removed service's ports wait for the reaper still enslaved to its bridge, now a spare: a service
    taking that spare at once must not get them."""
    epl(driver, "svc-1", 5001, ("pe-ldn-1", "uni-1"), ["p-ldn"], ("pe-bri-1", "uni-2"))
    driver.unconfigure("p-ldn", "svc-1")
    driver.configure("p-ldn", "svc-2", ElementConfiguration(vni=5002, nniPeers=["pe-ldn-1", "pe-bri-1"]))

    ns = driver.plane.topology.element_ns("p-ldn")
    shown = subprocess.run(
        ["ip", "-j", "-n", ns, "link", "show", "master", "b5002"], capture_output=True, check=True
    )
    links = [driver.plane.topology.link("p-ldn", peer).index for peer in ("pe-ldn-1", "pe-bri-1")]
    assert {link["ifname"] for link in json.loads(shown.stdout)} == {f"x5002-{n}" for n in links}


def test_a_restarted_driver_keeps_and_reuses_the_spare_bridges(
    database: Database, driver: LinuxDriver
) -> None:
    epl(driver, "svc-1", 5001, ("pe-ldn-1", "uni-1"), ["p-ldn"], ("pe-bri-1", "uni-2"))
    for element in ("pe-ldn-1", "p-ldn", "pe-bri-1"):
        driver.unconfigure(element, "svc-1")
    driver.kernel.settle()
    spare = {n for n in _interfaces(driver, "p-ldn") if n.startswith("s")}
    assert len(spare) == 1
    driver.stop()  # as after kill -9 or a stop: the spares stay in the kernel
    restarted = LinuxDriver(database, driver.prefix, dispatch=lambda _ids: None)
    restarted.start()
    try:
        assert {n for n in _interfaces(restarted, "p-ldn") if n.startswith("s")} == spare
        for service, vni in (("svc-2", 5002), ("svc-3", 5003)):
            epl(restarted, service, vni, ("pe-ldn-1", "uni-1"), ["p-ldn"], ("pe-bri-1", "uni-2"))
            restarted.unconfigure("pe-ldn-1", service)
            restarted.unconfigure("pe-bri-1", service)
        assert not spare & _interfaces(restarted, "p-ldn")  # svc-2 took the spare
    finally:
        restarted.stop()


def test_a_test_that_cannot_have_the_test_set_in_time_is_refused_as_unavailable(
    driver: LinuxDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A queued test answers 503 (retry) within the wait, instead of outlasting its caller's timeout."""
    epl(driver, "svc-1", 5001, ("pe-ldn-1", "uni-1"), ["p-ldn"], ("pe-bri-1", "uni-2"))
    monkeypatch.setattr(linux_driver, "TEST_SET_WAIT_S", 0.2)
    request = ServiceTestRequest(serviceId="svc-1", aEnd=A, zEnd=Z, cir=1_000_000)
    # another activation test holds the test set
    with driver._test_set, pytest.raises(DriverError) as refused:
        driver.run_test(request)
    assert refused.value.status == 503
    assert refused.value.code == "testSetBusy"
    assert driver._test_set.acquire(blocking=False)  # the refused test did not keep the test set
    driver._test_set.release()


def test_a_configuration_the_model_refuses_is_taken_back_off_the_kernel(driver: LinuxDriver) -> None:
    """The kernel is configured while the model is written: what the model refuses must not stay."""
    refused = ElementConfiguration(vni=5009, uniPorts=[uni("uni-999")], nniPeers=["p-ldn"])
    with pytest.raises(DriverError) as error:
        driver.configure("pe-ldn-1", "svc-refused", refused)
    assert error.value.status == 422
    driver.kernel.settle()
    assert not [name for name in leftovers(driver.prefix) if name.endswith("-uni-999")]
    assert not [
        n for n in _interfaces(driver, "pe-ldn-1") if n in ("b5009", "u999") or n.startswith("x5009-")
    ]
