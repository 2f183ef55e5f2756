"""Infrastructure Control (ICM): serves PRESTO, consumes ADAGIO."""

from lso.entity import Entity

ENTITY = Entity(name="icm", routers=lambda _ctx: [])
