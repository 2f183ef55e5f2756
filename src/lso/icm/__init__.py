"""Infrastructure Control (ICM): serves PRESTO, consumes ADAGIO."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from lso.entity import Entity, EntityContext
from lso.footprint import named_footprint
from lso.icm import alarms, events, reroute, topology
from lso.icm.adagio_client import AdagioClient
from lso.icm.measurements import measurements_router
from lso.icm.presto import presto_router


def _routers(ctx: EntityContext) -> list[APIRouter]:
    adagio = AdagioClient(ctx.client("ecm"))
    return [
        presto_router(ctx.db, adagio),
        measurements_router(ctx.db, adagio),
        events.presto_hub_router(),
        alarms.listener(ctx.db),
    ]


def _seed_demo(session: Session, ctx: EntityContext) -> None:
    topology.seed(session, named_footprint(ctx.settings.footprint))


ENTITY = Entity(
    name="icm", routers=_routers, start=reroute.install, seed_demo=_seed_demo, recover=alarms.recover
)
