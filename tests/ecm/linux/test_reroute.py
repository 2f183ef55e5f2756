"""A whole domain on the linux network: a link failure seen by the kernel reroutes a service through ICM
while the probe runs, and the outage it measures is under a second; after kill -9 the restarted domain
still carries the service."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pytest

from lso.ecm.drivers.linux import lab
from lso.ecm.drivers.linux.plane import Topology, prefix_of
from lso.ecm.drivers.linux.probe import Endpoint, ProbeResult, run_probe
from lso.settings import Settings
from lso.sof.presto_client import BandwidthProfile, EndPoint, PrestoClient
from tests.ecm.linux.conftest import leftovers, require_linux
from tests.harness import domain_process, internal_client, wait_until
from tests.network import held_by_elements

ADAGIO = "/adagio/v1"
LDN_MAN = ("site-ldn-docklands", "site-man-central")
DIRECT = ("pe-ldn-1", "p-ldn", "p-man", "pe-man-1")
VIA_BIR = ("pe-ldn-1", "p-bir", "p-man", "pe-man-1")
OUTAGE_LIMIT_S = 1.0


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    require_linux()
    path = tmp_path_factory.mktemp("linux-domain")
    yield path
    lab.clean(prefix_of(path))
    assert not leftovers(prefix_of(path))


def _serve(
    data_dir: Path, port: int | None = None
) -> AbstractContextManager[tuple[subprocess.Popen[bytes], str]]:
    return domain_process(data_dir, port=port, env={"LSO_NETWORK": "linux"})


def _settings(data_dir: Path, base_url: str) -> Settings:
    return Settings.load(data_dir, port=int(base_url.rsplit(":", 1)[1]), demo=True, network="linux")


def _ends(icm: httpx.Client, prefix: str, service_id: str) -> tuple[Endpoint, Endpoint]:
    """The customer-edge hosts of the service's two UNIs."""
    topology = Topology.of(prefix, icm.get(f"{ADAGIO}/elements").json())
    held = held_by_elements(icm, service_id)
    ends = [(e, held[e]["uniPorts"][0]["port"]) for e in (DIRECT[0], DIRECT[-1])]
    a, z = (Endpoint(topology.ce_ns(e, p), topology.ce_address(e, p)) for e, p in ends)
    return a, z


def _ingress_frames(icm: httpx.Client) -> int:
    counters = icm.post(f"{ADAGIO}/counters/query", json={"items": [{"element": DIRECT[0]}]}).json()
    return sum(c["ingress"]["frames"] for c in counters["counters"])


def test_a_link_failure_reroutes_with_an_outage_under_a_second_and_survives_kill_9(data_dir: Path) -> None:
    with _serve(data_dir) as (process, base_url):
        settings = _settings(data_dir, base_url)
        icm, presto = internal_client(settings, "icm"), PrestoClient(internal_client(settings, "sof"))
        key = uuid.uuid4().hex
        a_sip = presto.allocate_sip(LDN_MAN[0], f"{key}-a", 1000)
        z_sip = presto.allocate_sip(LDN_MAN[1], f"{key}-z", 1000)
        service = presto.create_connectivity_service(
            str(uuid.uuid4()), [EndPoint(a_sip.uuid), EndPoint(z_sip.uuid)], BandwidthProfile(100)
        )
        assert service.route == DIRECT
        a, z = _ends(icm, prefix_of(data_dir), service.uuid)

        results: list[ProbeResult] = []
        probe = threading.Thread(target=lambda: results.append(run_probe(a, z, 2_000_000, 500, 4.0)))
        before = _ingress_frames(icm)
        probe.start()
        wait_until(lambda: _ingress_frames(icm) > before + 100)  # the probe's frames are flowing
        alarm = icm.put(f"{ADAGIO}/admin/faults/link/p-man--p-ldn")
        assert alarm.status_code == 200 and alarm.json()["source"] == "link:p-ldn--p-man"
        wait_until(lambda: presto.get_connectivity_service(service.uuid).route == VIA_BIR)
        probe.join()
        [result] = results
        assert 0 < result.outage_s < OUTAGE_LIMIT_S, result.wire()
        assert result.timeline[-1].received == result.timeline[-1].sent > 0  # flowing again, via p-bir

        assert icm.delete(f"{ADAGIO}/admin/faults/link/p-ldn--p-man").status_code == 204
        wait_until(lambda: not icm.get(f"{ADAGIO}/alarms", params={"state": "raised"}).json())
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        port = int(base_url.rsplit(":", 1)[1])

    with _serve(data_dir, port) as (_process, _url):
        again = run_probe(a, z, 1_000_000, 500, 0.5)
        assert again.frames_received == again.frames_sent > 0
        assert set(held_by_elements(icm, service.uuid)) == set(VIA_BIR)
