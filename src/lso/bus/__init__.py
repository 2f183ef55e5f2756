"""Business Applications (BUS): serves CANTATA and SONATA, consumes LEGATO."""

from lso.entity import Entity

ENTITY = Entity(name="bus", routers=lambda _ctx: [])
