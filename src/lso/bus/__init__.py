"""Business Applications (BUS): serves CANTATA and SONATA (as seller), consumes LEGATO."""

from fastapi import APIRouter

from lso.bus import api, assurance
from lso.bus.partners import interlude_sales
from lso.entity import Entity, EntityContext


def _routers(ctx: EntityContext) -> list[APIRouter]:
    return [*api.routers(ctx), assurance.router(ctx)]


def _recover(ctx: EntityContext) -> None:
    api.recover(ctx)
    assurance.recover(ctx)
    interlude_sales.recover(ctx)


ENTITY = Entity(name="bus", routers=_routers, start=api.start, seed_demo=api.seed_demo, recover=_recover)
