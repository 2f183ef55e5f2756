"""The demo footprint: the provider's sites, network elements, ports and links.

This is configuration, not an entity's internals: ``lso serve --demo`` gives each entity the same
description and each seeds its own view of it — BUS its geographic sites and addresses, ICM its topology,
ECM its elements. A real deployment would load its own file of the same shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Address:
    street_nr: str
    street_name: str
    street_type: str
    city: str
    postcode: str
    country: str


@dataclass(frozen=True)
class Site:
    id: str
    name: str
    element: str
    address: Address
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Element:
    id: str
    role: str  # "PE" carries UNIs, "P" is core only
    uni_ports: int
    uni_port_speed_mbps: int


@dataclass(frozen=True)
class Link:
    a: str
    z: str
    capacity_mbps: int
    distance_km: float


@dataclass(frozen=True)
class Footprint:
    sites: tuple[Site, ...]
    elements: tuple[Element, ...]
    links: tuple[Link, ...]

    def site(self, site_id: str) -> Site | None:
        return next((s for s in self.sites if s.id == site_id), None)


@cache
def demo_footprint() -> Footprint:
    return load(Path(__file__).with_name("demo.yaml"))


def load(path: Path) -> Footprint:
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return Footprint(
        sites=tuple(
            Site(
                id=s["id"],
                name=s["name"],
                element=s["element"],
                address=Address(**s["address"]),
                latitude=s["latitude"],
                longitude=s["longitude"],
            )
            for s in data["sites"]
        ),
        elements=tuple(Element(**e) for e in data["elements"]),
        links=tuple(Link(**link) for link in data["links"]),
    )
