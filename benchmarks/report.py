"""What every benchmark shares: where and how its JSON result is written."""

from __future__ import annotations

import json
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
