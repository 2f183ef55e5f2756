"""Service Orchestration (SOF): serves LEGATO (and ALLEGRO, INTERLUDE), consumes PRESTO."""

from lso.entity import Entity

ENTITY = Entity(name="sof", routers=lambda _ctx: [])
