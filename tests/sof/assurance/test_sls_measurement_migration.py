"""Migration 0003: measurement blocks written in the record layout before the IFDV straddling fields are
read correctly after ``migrate`` (the new fields zero), and a downgrade gives the old layout back."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text

import lso.db
from lso.db import Database, migrate
from lso.sof.assurance import measurement_store, series
from lso.sof.assurance.series import DAY_S, MeasurementProfile, SeriesKey

PROFILE = MeasurementProfile.for_objectives(900, 60, 0.5, fd_objectives_us=[5_000], ifdv_objectives_us=[900])
KEY = SeriesKey("svc-old", "pe-a/uni-1", "pe-z/uni-2", "H")
OLD_LAYOUT = np.dtype(  # series.interval_dtype before ifdv_straddling_max_us / ifdv_straddling_bins
    [
        ("start", "<i8"),
        ("offered", "<u8"),
        ("delivered", "<u8"),
        ("fd_sum_us", "<u8"),
        ("fd_min_us", "<u4"),
        ("fd_max_us", "<u4"),
        ("fd_bins", "<u4", (len(PROFILE.fd_bins_us),)),
        ("ifdv_max_us", "<u4"),
        ("ifdv_bins", "<u4", (len(PROFILE.ifdv_bins_us),)),
        ("high_loss", "u1", (4,)),
    ]
)


def alembic_config(url: str) -> Config:
    """The configuration ``lso.db.migrate`` uses, to stop at or go back to a revision."""
    config = Config()
    config.set_main_option("script_location", str(Path(lso.db.__file__).parent / "migrations"))
    config.attributes["url"] = url
    return config


@pytest.fixture
def at_0002(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0002")
    yield url


def old_records(start: int, count: int) -> np.ndarray:
    records = np.zeros(count, dtype=OLD_LAYOUT)
    records["start"] = start + 900 * np.arange(count)
    records["offered"] = 90_000 + np.arange(count)
    records["delivered"] = 89_000 + np.arange(count)
    records["fd_sum_us"] = 2**33 + 7  # a 64-bit counter past 32 bits
    records["fd_min_us"], records["fd_max_us"] = 1_045, 6_000
    records["fd_bins"][:, 1] = 88_000
    records["fd_bins"][:, PROFILE.fd_bins_us.index(5_001)] = 1_000
    records["ifdv_max_us"] = 950
    records["ifdv_bins"][:, PROFILE.ifdv_bins_us.index(901)] = 3
    records["ifdv_bins"][:, 0] = 89_897
    records["high_loss"][:, 0] = 0b101  # H = 1 in the 1st and 3rd Δt
    return records


def insert_block(
    url: str,
    day: int,
    part: int,
    records: np.ndarray,
    key: SeriesKey = KEY,
    profile: MeasurementProfile = PROFILE,
) -> None:
    """A block as revisions 0002 and 0003 stored it: the profile's JSON, the records compressed whatever
    their count (the two differ in the record layout only)."""
    database = Database(url)
    try:
        with database.session() as session:
            session.execute(
                text(
                    "INSERT INTO measurement_block (service_id, source, sink, cos_name, day, part, profile,"
                    " count, data) VALUES (:s, :a, :z, :c, :d, :p, :profile, :n, :data)"
                ),
                {
                    "s": key.service_id,
                    "a": key.source,
                    "z": key.sink,
                    "c": key.cos_name,
                    "d": day,
                    "p": part,
                    "profile": profile.to_json(),
                    "n": len(records),
                    "data": zlib.compress(records.tobytes(), 1),
                },
            )
    finally:
        database.dispose()


def stored(url: str, key: SeriesKey = KEY) -> Any:
    """The series ``key`` over its first two days, as the store reads it at ``url`` now."""
    database = Database(url)
    try:
        with database.read() as session:
            return measurement_store.read(session, key, 0, 2 * DAY_S)
    finally:
        database.dispose()


def test_old_blocks_are_read_correctly_after_migrate(at_0002: str) -> None:
    first, second = old_records(0, 96), old_records(DAY_S, 3)
    insert_block(at_0002, 0, 1, first)
    insert_block(at_0002, 1, 2, second)

    migrate(at_0002)

    found = stored(at_0002)
    assert found is not None and found.profile == PROFILE
    assert found.records.dtype == series.interval_dtype(PROFILE)
    old = np.concatenate([first, second])
    assert len(found.records) == len(old)
    for name in OLD_LAYOUT.fields or ():
        assert np.array_equal(found.records[name], old[name]), name
    assert not found.records["ifdv_straddling_bins"].any()
    assert not found.records["ifdv_straddling_max_us"].any()
    assert series.high_loss_bits(found.records[:1], PROFILE)[0, :4].tolist() == [True, False, True, False]

    migrate(at_0002)  # at head already: nothing to do, the blocks stay as they are
    assert stored(at_0002).records.tobytes() == found.records.tobytes()


def test_downgrade_gives_the_old_layout_back(at_0002: str) -> None:
    records = old_records(0, 4)
    insert_block(at_0002, 0, 1, records)
    migrate(at_0002)
    command.downgrade(alembic_config(at_0002), "0002")
    database = Database(at_0002)
    try:
        with database.read() as session:
            data = session.execute(text("SELECT data FROM measurement_block")).scalar_one()
    finally:
        database.dispose()
    assert np.frombuffer(zlib.decompress(data), dtype=OLD_LAYOUT).tobytes() == records.tobytes()
