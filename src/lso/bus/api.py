"""The seller APIs BUS serves — the same implementation on CANTATA and on SONATA — gathered for the domain."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from lso.bus import context, sonata
from lso.bus.cantata import (
    geographic_address,
    geographic_site,
    inventory,
    order,
    poq,
    product_catalog,
    quote,
)
from lso.bus.irp import SELLER_IRPS
from lso.bus.order import legato_listener
from lso.bus.partners import api as partners
from lso.entity import EntityContext

_APIS = (product_catalog, geographic_address, geographic_site, poq, quote, order, inventory)


def routers(ctx: EntityContext) -> list[APIRouter]:
    sellers = [api.router(ctx, irp) for irp in SELLER_IRPS for api in _APIS]
    return [*sellers, legato_listener.router(), partners.router(ctx), partners.listeners()]


def start(ctx: EntityContext) -> None:
    context.install(ctx)


def recover(ctx: EntityContext) -> None:
    order.recover(ctx)


def seed_demo(session: Session, ctx: EntityContext) -> None:
    product_catalog.seed_demo(session, ctx)
    geographic_site.seed_demo(session, ctx)
    sonata.seed_demo(session, ctx)
