"""Looking at the network the way ICM does: what elements hold (ADAGIO) and port allocation (PRESTO)."""

from __future__ import annotations

from typing import Any

import httpx

from lso.footprint import demo_footprint


def element_configurations(icm: httpx.Client) -> dict[str, list[dict[str, Any]]]:
    """Every element's configurations, one per service it holds."""
    held = {}
    for element in demo_footprint().elements:
        response = icm.get(f"/adagio/v1/elements/{element.id}/configurations")
        response.raise_for_status()
        held[element.id] = response.json()
    return held


def held_by_elements(icm: httpx.Client, connectivity_service: str) -> dict[str, dict[str, Any]]:
    """What each element holds for one connectivity service."""
    return {
        element: config
        for element, configs in element_configurations(icm).items()
        for config in configs
        if config["serviceId"] == connectivity_service
    }


def sip_state(icm: httpx.Client, sip: str) -> str:
    response = icm.post(
        "/restconf/operations/get-service-interface-point-details/", json={"input": {"sip-id-or-name": sip}}
    )
    response.raise_for_status()
    names = response.json()["output"]["sip"]["name"]
    return str(next(n["value"] for n in names if n["value-name"] == "allocation-state"))
