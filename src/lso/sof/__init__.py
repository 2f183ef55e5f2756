"""Service Orchestration (SOF): serves LEGATO (and ALLEGRO, INTERLUDE), consumes PRESTO."""

from fastapi import APIRouter

from lso.entity import Entity, EntityContext
from lso.sof import activation, change, interlude_client
from lso.sof.assurance import alarm_admin, icm_events, mounts, partner_listener, sls
from lso.sof.legato import service_feasibility, service_function_testing, service_inventory, service_ordering
from lso.sof.presto_client import PrestoClient


def _routers(ctx: EntityContext) -> list[APIRouter]:
    return [
        service_ordering.router(),
        service_inventory.router(),
        service_function_testing.router(),
        service_feasibility.router(lambda: PrestoClient(ctx.client("icm"))),
        *mounts.routers(),
        alarm_admin.router(),
        icm_events.router(),
        interlude_client.listener(),
        partner_listener.router(),
    ]


def _recover(ctx: EntityContext) -> None:
    change.recover(ctx)
    sls.recover(ctx)
    icm_events.recover(ctx)


ENTITY = Entity(name="sof", routers=_routers, start=activation.install, recover=_recover)
