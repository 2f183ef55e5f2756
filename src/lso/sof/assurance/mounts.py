"""The assurance APIs mounted on ALLEGRO, LEGATO and INTERLUDE: one implementation, three audiences."""

from __future__ import annotations

from fastapi import APIRouter

from lso.sof.assurance import alarm_management, fault_management, performance_monitoring
from lso.sof.assurance.access import IRPS


def routers() -> list[APIRouter]:
    return [
        module.router(irp)
        for irp in IRPS
        for module in (performance_monitoring, fault_management, alarm_management)
    ]
