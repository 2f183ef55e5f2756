"""Business Applications (BUS): serves CANTATA and SONATA (as seller), consumes LEGATO."""

from lso.bus import api
from lso.entity import Entity

ENTITY = Entity(
    name="bus", routers=api.routers, start=api.start, seed_demo=api.seed_demo, recover=api.recover
)
