"""The domain's administrator: one client, ``lso-admin`` with role ``admin``, that the admin APIs
(``/admin/...``: partners, alarms) answer alone.

They are not MEF APIs, so they live outside ``/mefApi``; their errors are still MEF error bodies. The
client's secret is created once per data directory (``admin.secret``, mode 0600), so whoever may read the
data directory may operate the domain, as the ``lso partner`` and ``lso alarm`` commands do.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from lso.mef.errors import MefError
from lso.security.tokens import Caller, CallerDep, register_client

ADMIN_CLIENT = "lso-admin"
ADMIN_ROLE = "admin"
ADMIN_SECRET_FILE = "admin.secret"


def admin_secret(data_dir: Path) -> str:
    """The administrator's client secret, created once per data directory."""
    path = data_dir / ADMIN_SECRET_FILE
    if not path.exists():
        path.write_text(secrets.token_hex(24))
        path.chmod(0o600)
    return path.read_text().strip()


def register_admin(session: Session, data_dir: Path) -> None:
    register_client(session, ADMIN_CLIENT, admin_secret(data_dir), ADMIN_CLIENT, ADMIN_ROLE)


async def _admin(caller: CallerDep) -> Caller:
    if caller.role != ADMIN_ROLE:
        raise MefError(403, "Only the domain's administrator may use this interface", code="accessDenied")
    return caller


AdminDep = Annotated[Caller, Depends(_admin)]
"""Only the domain's administrator (the admin APIs)."""
