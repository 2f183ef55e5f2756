"""BUS's own context for its durable workflows.

DBOS workflows and steps are module-level functions recovered by id after a crash, so they cannot close
over the entity's context; BUS installs it here once on start and its steps reach SOF through it.
"""

from __future__ import annotations

from lso.bus.legato_client import LegatoClient
from lso.entity import EntityContext

_context: EntityContext | None = None


def install(ctx: EntityContext) -> None:
    global _context
    _context = ctx


def legato() -> LegatoClient:
    """BUS's LEGATO client, authenticated as BUS."""
    if _context is None:
        raise RuntimeError("BUS is not started in this process")
    return LegatoClient(_context.client("sof"))
