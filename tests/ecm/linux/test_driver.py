"""The linux driver through its ADAGIO contract: configuration really carries traffic between the CE hosts."""

from __future__ import annotations

from lso.ecm.drivers import ServicePort
from lso.ecm.drivers.linux.driver import LinuxDriver
from lso.ecm.drivers.linux.probe import run_probe
from tests.ecm.linux.conftest import epl

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
