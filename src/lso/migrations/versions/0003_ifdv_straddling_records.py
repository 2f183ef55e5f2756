"""measurement records with the IFDV pairs straddling an interval's start

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 07:30:00.000000

The interval record (``sof/assurance/series.py``) gained ``ifdv_straddling_max_us`` and
``ifdv_straddling_bins`` after ``ifdv_bins``; blocks written before no longer decode. This re-encodes
every ``measurement_block`` row of the old layout into the new one with those fields zero (no straddling
pair was measured then, and none is made up). The layouts are spelled out here, not imported, so this
revision keeps meaning what it meant when ``series.py`` changes again.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_KEY = ("service_id", "source", "sink", "cos_name", "day", "part")
_BATCH = 1_000
_BLOCKS = sa.table("measurement_block", *(sa.column(name) for name in (*_KEY, "profile", "count", "data")))


def _layout(profile_json: str, straddling: bool) -> np.dtype[Any]:
    """The record of a block's profile: the layout of revision 0002, or with the straddling fields."""
    profile = json.loads(profile_json)
    fd_bins, ifdv_bins = len(profile["fd_bins_us"]), len(profile["ifdv_bins_us"])
    delta_ts = profile["interval_s"] // profile["delta_t_s"]
    fields: list[tuple[Any, ...]] = [
        ("start", "<i8"),
        ("offered", "<u8"),
        ("delivered", "<u8"),
        ("fd_sum_us", "<u8"),
        ("fd_min_us", "<u4"),
        ("fd_max_us", "<u4"),
        ("fd_bins", "<u4", (fd_bins,)),
        ("ifdv_max_us", "<u4"),
        ("ifdv_bins", "<u4", (ifdv_bins,)),
    ]
    if straddling:
        fields += [("ifdv_straddling_max_us", "<u4"), ("ifdv_straddling_bins", "<u4", (ifdv_bins,))]
    return np.dtype([*fields, ("high_loss", "u1", ((delta_ts + 31) // 32 * 4,))])


def _recode(data: bytes, count: int, source: np.dtype[Any], target: np.dtype[Any]) -> bytes | None:
    """The block's records in ``target`` (fields ``source`` lacks are zero); None when already there."""
    raw = zlib.decompress(data)
    if len(raw) == count * target.itemsize:
        return None
    if len(raw) != count * source.itemsize:
        raise ValueError(f"a measurement block of {len(raw)} bytes for {count} records fits no layout")
    records = np.frombuffer(raw, dtype=source)
    out = np.zeros(count, dtype=target)
    for name in set(target.fields or ()) & set(source.fields or ()):
        out[name] = records[name]
    return zlib.compress(out.tobytes(), 1)


def _rewrite(recode: Callable[[str, bytes, int], bytes | None]) -> None:
    """Every block through ``recode``, in batches by primary key (updates leave the keys as they are)."""
    bind = op.get_bind()
    key = sa.tuple_(*(_BLOCKS.c[name] for name in _KEY))
    last: tuple[Any, ...] | None = None
    while True:
        query = sa.select(_BLOCKS).order_by(*(_BLOCKS.c[name] for name in _KEY)).limit(_BATCH)
        if last is not None:
            query = query.where(key > sa.tuple_(*(sa.literal(value) for value in last)))
        rows = bind.execute(query).all()
        for row in rows:
            block = row._mapping  # ``row.count`` would be the tuple method
            data = recode(block["profile"], block["data"], block["count"])
            if data is not None:
                where = [_BLOCKS.c[name] == block[name] for name in _KEY]
                bind.execute(sa.update(_BLOCKS).where(*where).values(data=data))
        if len(rows) < _BATCH:
            return
        last = tuple(rows[-1]._mapping[name] for name in _KEY)


def upgrade() -> None:
    _rewrite(
        lambda profile, data, count: _recode(data, count, _layout(profile, False), _layout(profile, True))
    )


def downgrade() -> None:
    """Back to the layout of 0002: the straddling pairs measured since are dropped."""
    _rewrite(
        lambda profile, data, count: _recode(data, count, _layout(profile, True), _layout(profile, False))
    )
