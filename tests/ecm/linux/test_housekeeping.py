"""Housekeeping: capability detection stops `lso serve --network linux` with the reason, and `lso lab clean`
removes what a domain left in the kernel — found by its prefix alone, as after a kill -9."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lso.cli import app
from lso.ecm.drivers.linux import capabilities
from lso.ecm.drivers.linux.mounts import NETNS_DIR
from lso.ecm.drivers.linux.plane import prefix_of
from tests.ecm.linux.conftest import leftovers, require_linux


def test_serve_on_the_linux_network_exits_with_the_reason_when_not_root(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(capabilities.os, "geteuid", lambda: 1000)
    result = CliRunner().invoke(app, ["serve", "--network", "linux", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "cannot run the linux network driver: not root" in result.output


def test_an_unknown_network_driver_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["serve", "--network", "ns3", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "unknown network driver" in result.output


def test_this_host_is_detected_able_or_not_with_a_reason() -> None:
    found = capabilities.detect()
    assert found.ok or found.problems[0]
    assert not [p for p in NETNS_DIR.glob("lsocap*")]  # its throw-away namespaces are gone


def test_lab_clean_removes_a_domains_namespaces_and_their_interfaces(tmp_path: Path) -> None:
    require_linux()
    prefix = prefix_of(tmp_path)
    for name in ("pe-x", "ce-pe-x-uni-1"):
        subprocess.run(["ip", "netns", "add", f"{prefix}-{name}"], check=True)
    subprocess.run(
        [
            "ip",
            "-n",
            f"{prefix}-pe-x",
            "link",
            "add",
            "u1",
            "type",
            "veth",
            "peer",
            "eth0",
            "netns",
            f"{prefix}-ce-pe-x-uni-1",
        ],
        check=True,
    )
    result = CliRunner().invoke(app, ["lab", "clean", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert f"{prefix}: removed 2 namespace(s)" in result.output
    assert not leftovers(prefix)
