"""What every benchmark shares: where and how its JSON result is written."""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"


def write_result(benchmark: str, result: dict[str, Any]) -> Path:
    """``result`` as ``benchmarks/results/<benchmark>-<UTC time>.json`` (git ignores the folder)."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{benchmark}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(result, indent=2))
    return path


def machine() -> dict[str, Any]:
    """Where a result was measured; the load average says how much of the cores others had."""
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
