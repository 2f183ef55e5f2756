"""Migration 0004: blocks written with their profile's JSON in every row and even one record compressed
get a ``profile_id`` into ``measurement_profile`` and their one-record data uncompressed, and read back the
same records; a downgrade gives the rows of revision 0003 back."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from alembic import command
from sqlalchemy import text

from lso.db import Database, migrate
from lso.sof.assurance import measurement_store, series
from lso.sof.assurance.series import DAY_S, MeasurementProfile, SeriesKey
from tests.sof.assurance.test_sls_measurement_migration import alembic_config, insert_block, stored

PROFILE = MeasurementProfile.for_objectives(900, 60, 0.5, fd_objectives_us=[5_000], ifdv_objectives_us=[900])
OTHER = MeasurementProfile(60, 10, 0.1)
KEY = SeriesKey("svc-0004", "pe-a/uni-1", "pe-z/uni-2", "H")
ELSEWHERE = SeriesKey("svc-0004-b", "pe-a/uni-1", "pe-z/uni-2", "L")


@pytest.fixture
def at_0003(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0003")
    yield url


def records(profile: MeasurementProfile, start: int, count: int) -> np.ndarray:
    made = series.empty(profile, count)
    made["start"] = start + profile.interval_s * np.arange(count)
    made["offered"] = 1_000 + np.arange(count)
    made["delivered"] = 990 + np.arange(count)
    made["fd_bins"][:, 1] = 7
    made["high_loss"][:, 0] = 0b10
    return made


def select_all(url: str, sql: str) -> list[Any]:
    database = Database(url)
    try:
        with database.read() as session:
            return list(session.execute(text(sql)))
    finally:
        database.dispose()


def insert_0003_block(
    url: str, key: SeriesKey, part: int, profile: MeasurementProfile, made: np.ndarray
) -> None:
    """A block as revision 0003 stored it: the profile's JSON, the records compressed whatever their count."""
    insert_block(url, int(made["start"][0]) // DAY_S, part, made, key, profile)


def test_blocks_refer_to_their_profile_and_one_record_is_stored_as_it_is(at_0003: str) -> None:
    polled, day, other = records(PROFILE, 0, 1), records(PROFILE, 900, 95), records(OTHER, 60, 1)
    insert_0003_block(at_0003, KEY, 1, PROFILE, polled)
    insert_0003_block(at_0003, KEY, 2, PROFILE, day)
    insert_0003_block(at_0003, ELSEWHERE, 3, OTHER, other)

    migrate(at_0003)

    assert sorted(
        tuple(row) for row in select_all(at_0003, "SELECT id, profile FROM measurement_profile")
    ) == sorted(
        [
            (measurement_store.profile_id(PROFILE), PROFILE.to_json()),
            (measurement_store.profile_id(OTHER), OTHER.to_json()),
        ]
    )
    blocks = select_all(at_0003, "SELECT part, profile_id, count, data FROM measurement_block ORDER BY part")
    assert [(part, pid, count) for part, pid, count, _ in blocks] == [
        (1, measurement_store.profile_id(PROFILE), 1),
        (2, measurement_store.profile_id(PROFILE), 95),
        (3, measurement_store.profile_id(OTHER), 1),
    ]
    assert blocks[0].data == polled.tobytes() and blocks[2].data == other.tobytes()
    assert zlib.decompress(blocks[1].data) == day.tobytes()
    found, found_elsewhere = stored(at_0003, KEY), stored(at_0003, ELSEWHERE)
    assert found is not None and found.profile == PROFILE
    assert found.records.tobytes() == np.concatenate([polled, day]).tobytes()
    assert found_elsewhere is not None and found_elsewhere.profile == OTHER
    assert found_elsewhere.records.tobytes() == other.tobytes()


def test_downgrade_gives_the_rows_of_0003_back(at_0003: str) -> None:
    polled, day = records(PROFILE, 0, 1), records(PROFILE, 900, 3)
    insert_0003_block(at_0003, KEY, 1, PROFILE, polled)
    migrate(at_0003)
    database = Database(at_0003)
    try:
        with database.session() as session:  # ingested after the upgrade: stored the new way
            measurement_store.ingest(session, PROFILE, [(KEY, day)])
    finally:
        database.dispose()

    command.downgrade(alembic_config(at_0003), "0003")

    rows = select_all(at_0003, "SELECT profile, count, data FROM measurement_block ORDER BY part")
    assert [(profile, count) for profile, count, _ in rows] == [
        (PROFILE.to_json(), 1),
        (PROFILE.to_json(), 3),
    ]
    assert zlib.decompress(rows[0].data) == polled.tobytes()
    assert zlib.decompress(rows[1].data) == day.tobytes()
    assert select_all(at_0003, "SELECT name FROM sqlite_master WHERE name = 'measurement_profile'") == []
