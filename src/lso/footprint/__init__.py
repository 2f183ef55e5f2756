"""The demo footprints: the provider's sites, network elements, ports, links and ENNIs.

This is configuration, not an entity's internals: ``lso serve --demo`` gives each entity the same
description and each seeds its own view of it — BUS its geographic sites and addresses (and the ENNI
products of its SONATA buyers), ICM its topology, ECM its elements. ``demo.yaml`` is the provider of the
demo, ``partner.yaml`` a partner provider in another region (``lso serve --footprint partner``). A real
deployment would load its own file of the same shape.
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
class Enni:
    """An External Network Network Interface (MEF 26.2) with a partner provider: one port of a PE element,
    carrying the OVCs the two networks exchange, each on its own S-VLAN ID from ``vlans``."""

    id: str
    element: str
    port: str
    partner: str
    capacity_mbps: int
    vlans: tuple[int, ...]


@dataclass(frozen=True)
class Footprint:
    sites: tuple[Site, ...]
    elements: tuple[Element, ...]
    links: tuple[Link, ...]
    ennis: tuple[Enni, ...] = ()

    def site(self, site_id: str) -> Site | None:
        return next((s for s in self.sites if s.id == site_id), None)

    def site_of_element(self, element: str) -> Site | None:
        return next((s for s in self.sites if s.element == element), None)


FOOTPRINTS = ("demo", "partner")


@cache
def demo_footprint() -> Footprint:
    return named_footprint("demo")


@cache
def named_footprint(name: str) -> Footprint:
    """One of the footprints shipped with lso (:data:`FOOTPRINTS`)."""
    if name not in FOOTPRINTS:
        raise ValueError(f"unknown footprint {name!r}; known: {', '.join(FOOTPRINTS)}")
    return load(Path(__file__).with_name(f"{name}.yaml"))


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
        ennis=tuple(_enni(e) for e in data.get("ennis", [])),
    )


def _enni(data: dict[str, Any]) -> Enni:
    """``vlans`` is written as ranges, e.g. ``"100-199,300"``."""
    vlans: list[int] = []
    for part in str(data["vlans"]).split(","):
        first, _, last = part.strip().partition("-")
        vlans.extend(range(int(first), int(last or first) + 1))
    return Enni(
        id=data["id"],
        element=data["element"],
        port=data["port"],
        partner=data["partner"],
        capacity_mbps=data["capacity_mbps"],
        vlans=tuple(vlans),
    )
