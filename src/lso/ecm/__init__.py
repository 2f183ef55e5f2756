"""Element Control (ECM): serves ADAGIO over a network driver (`sim` today; `linux` implements the same
contract in lso.ecm.drivers)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from lso.ecm import alarms
from lso.ecm.adagio import adagio_router
from lso.ecm.drivers import sim
from lso.entity import Entity, EntityContext
from lso.footprint import named_footprint


def _routers(ctx: EntityContext) -> list[APIRouter]:
    return [adagio_router(sim.SimDriver(ctx.db)), alarms.alarm_hub_router()]


def _seed_demo(session: Session, ctx: EntityContext) -> None:
    sim.seed(session, named_footprint(ctx.settings.footprint))


ENTITY = Entity(name="ecm", routers=_routers, start=alarms.install, seed_demo=_seed_demo)
