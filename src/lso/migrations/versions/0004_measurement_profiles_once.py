"""measurement profiles stored once; one-record blocks stored uncompressed

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 09:45:00.000000

A ``measurement_block`` row named its profile by the profile's JSON, repeated in every row, and held even
a single record zlib-compressed: a 15-minute poll paid both once per series. The profile moves to
``measurement_profile`` (id = the first 8 bytes of the BLAKE2b hash of its JSON, as a signed little-endian
integer) and blocks keep ``profile_id``; the data of a one-record block is the record itself. The rules are
spelled out here, not imported, so this revision keeps meaning what it meant when ``series.py`` changes.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_KEY = ("service_id", "source", "sink", "cos_name", "day", "part")
_BATCH = 1_000
_PROFILES = sa.table("measurement_profile", sa.column("id"), sa.column("profile"))


def _blocks(*columns: str) -> sa.TableClause:
    return sa.table("measurement_block", *(sa.column(name) for name in (*_KEY, "count", "data", *columns)))


def _profile_id(profile_json: str) -> int:
    digest = hashlib.blake2b(profile_json.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


def _recode_single_records(recode: Callable[[bytes], bytes]) -> None:
    """The data of every one-record block through ``recode``, in batches by primary key."""
    bind = op.get_bind()
    blocks = _blocks()
    key = sa.tuple_(*(blocks.c[name] for name in _KEY))
    last: tuple[Any, ...] | None = None
    while True:
        query = sa.select(blocks).where(blocks.c["count"] == 1).order_by(*key.clauses).limit(_BATCH)
        if last is not None:
            query = query.where(key > sa.tuple_(*(sa.literal(value) for value in last)))
        rows = [row._mapping for row in bind.execute(query)]  # ``row.count`` would be the tuple method
        for row in rows:
            where = [blocks.c[name] == row[name] for name in _KEY]
            bind.execute(sa.update(blocks).where(*where).values(data=recode(row["data"])))
        if len(rows) < _BATCH:
            return
        last = tuple(rows[-1][name] for name in _KEY)


def upgrade() -> None:
    op.create_table(
        "measurement_profile",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("profile", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.add_column("measurement_block", sa.Column("profile_id", sa.BigInteger(), nullable=True))
    bind = op.get_bind()
    blocks = _blocks("profile", "profile_id")
    for profile_json in bind.execute(sa.select(blocks.c.profile).distinct()).scalars().all():
        pid = _profile_id(profile_json)
        bind.execute(sa.insert(_PROFILES).values(id=pid, profile=profile_json))
        bind.execute(sa.update(blocks).where(blocks.c.profile == profile_json).values(profile_id=pid))
    _recode_single_records(zlib.decompress)
    with op.batch_alter_table("measurement_block") as batch:
        batch.alter_column("profile_id", existing_type=sa.BigInteger(), nullable=False)
        batch.drop_column("profile")


def downgrade() -> None:
    with op.batch_alter_table("measurement_block") as batch:
        batch.add_column(sa.Column("profile", sa.Text(), nullable=True))
    bind = op.get_bind()
    blocks = _blocks("profile", "profile_id")
    for pid, profile_json in bind.execute(sa.select(_PROFILES.c.id, _PROFILES.c.profile)).all():
        bind.execute(sa.update(blocks).where(blocks.c.profile_id == pid).values(profile=profile_json))
    _recode_single_records(lambda data: zlib.compress(data, 1))
    with op.batch_alter_table("measurement_block") as batch:
        batch.alter_column("profile", existing_type=sa.Text(), nullable=False)
        batch.drop_column("profile_id")
    op.drop_table("measurement_profile")
