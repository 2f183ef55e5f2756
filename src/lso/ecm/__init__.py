"""Element Control (ECM): serves ADAGIO over the network driver ``settings.network`` names — ``sim``
(modelled elements) or ``linux`` (network namespaces of this host carrying real traffic)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from lso.ecm import alarms
from lso.ecm.adagio import adagio_router
from lso.ecm.drivers import Driver, sim
from lso.ecm.drivers.linux.driver import LinuxDriver
from lso.ecm.drivers.linux.plane import enni_peers, prefix_of
from lso.entity import Entity, EntityContext
from lso.footprint import named_footprint

# The driver of each running domain (routers, start and recover of one domain share it).
_DRIVERS: dict[int, Driver] = {}


def _driver(ctx: EntityContext) -> Driver:
    if id(ctx) not in _DRIVERS:
        if ctx.settings.network == "linux":
            ennis = enni_peers(ctx.settings.enni_peers)
            _DRIVERS[id(ctx)] = LinuxDriver(ctx.db, prefix_of(ctx.settings.data_dir), ennis=ennis)
        elif ctx.settings.network == "sim":
            _DRIVERS[id(ctx)] = sim.SimDriver(ctx.db)
        else:
            raise ValueError(f"unknown network driver {ctx.settings.network!r} (sim or linux)")
    return _DRIVERS[id(ctx)]


def _routers(ctx: EntityContext) -> list[APIRouter]:
    return [adagio_router(_driver(ctx)), alarms.alarm_hub_router()]


def _start(ctx: EntityContext) -> None:
    alarms.install(ctx)
    driver = _driver(ctx)
    if isinstance(driver, LinuxDriver):
        driver.start()  # the linux driver makes the kernel hold the persisted configuration


def _recover(ctx: EntityContext) -> None:
    driver = _driver(ctx)
    if isinstance(driver, LinuxDriver):
        driver.watch()  # link alarms are dispatched at once, so only once notifications run


def _stop(ctx: EntityContext) -> None:
    driver = _DRIVERS.pop(id(ctx), None)
    if isinstance(driver, LinuxDriver):
        driver.stop()  # ends the link monitor; what the kernel holds stays for the next start


def _seed_demo(session: Session, ctx: EntityContext) -> None:
    sim.seed(session, named_footprint(ctx.settings.footprint))


ENTITY = Entity(
    name="ecm", routers=_routers, start=_start, seed_demo=_seed_demo, recover=_recover, stop=_stop
)
