"""What durable workflows reach for when they run: the domain's database and settings.

DBOS workflows are module-level functions registered at import and recovered by id after a crash, so
they cannot close over a domain object; the domain installs itself here once on start.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import httpx

from lso.db import Database
from lso.settings import Settings


@dataclass
class Runtime:
    settings: Settings
    db: Database
    http: httpx.Client
    # Set as the domain stops: work that waits between attempts gives up waiting (and is recovered, as
    # after a crash, when the domain starts again).
    stopping: threading.Event = field(default_factory=threading.Event)


_current: Runtime | None = None


def install(runtime: Runtime) -> None:
    global _current
    _current = runtime


def current() -> Runtime:
    if _current is None:
        raise RuntimeError("No domain is running in this process")
    return _current
