"""`lso demo` (what `make demo` runs) plays the ordering thread to the end and says so."""

from __future__ import annotations

import subprocess
import sys


def test_demo_orders_complete_and_the_summary_shows_the_activation_tests() -> None:
    # A child process: the demo starts its own domain, and DBOS allows one per process.
    result = subprocess.run(
        [sys.executable, "-m", "lso.cli", "demo", "--orders", "2"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    summary = result.stdout[result.stdout.index("Orders") :]
    on_net = summary[: summary.index("Partner domain")]
    assert on_net.count("completed") == 2 and on_net.count("pass: FD") == 2
    # the off-net scene: a partner domain on-boarded, and an EPL across both domains completed
    offnet = summary[summary.index("Off-net EPL") :]
    assert "On-boarded partner paris-access: active" in summary
    assert "completed" in offnet and "at http://127.0.0.1:" in offnet
