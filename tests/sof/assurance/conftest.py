"""Fixtures of the assurance tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.sof.orders import delete_item
from tests.sof.test_change import order_changes


@pytest.fixture
def terminated(bus: httpx.Client) -> Iterator[Callable[[dict[str, Any]], dict[str, Any]]]:
    """``terminated(evc)``: the EVC and its UNIs are deleted after the test. The domain is shared by the
    tests of a process, in any order (CI: pytest-xdist): a service left active would be assessed every
    second for the rest of the process, degrade — and test, reroute — with a later test that impairs an
    element it shares, and hold its bandwidth on the links a later test's reroute needs."""
    ordered: list[dict[str, Any]] = []

    def register(evc: dict[str, Any]) -> dict[str, Any]:
        ordered.append(evc)
        return evc

    yield register
    for evc in ordered:
        unis = [
            r["service"]["id"]
            for r in evc["serviceRelationship"]
            if r["relationshipType"] == "CONNECTS_TO_UNI"
        ]
        items = [delete_item("evc", evc["id"])] + [delete_item(f"uni-{i}", u) for i, u in enumerate(unis)]
        assert order_changes(bus, *items)["state"] == "completed"
