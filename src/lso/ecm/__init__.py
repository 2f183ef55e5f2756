"""Element Control (ECM): serves ADAGIO over a network driver (`sim` or `linux`)."""

from lso.entity import Entity

ENTITY = Entity(name="ecm", routers=lambda _ctx: [])
