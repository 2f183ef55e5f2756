"""The measurement series store: round trip, idempotent re-ingest, day blocks, profiles, compactness,
storage forms (a polled record as it is, several compressed; the profile once) — on SQLite, and on
PostgreSQL when LSO_TEST_POSTGRES_URL is set (which also checks migrations 0002-0004 there)."""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from lso.db import Database, migrate
from lso.sof.assurance import measurement_store, series
from lso.sof.assurance.measurement_store import MeasurementBlock, StoredProfile
from lso.sof.assurance.series import DAY_S, MeasurementProfile, SeriesKey
from lso.tables import metadata
from tests.conftest import _fresh_database, require

PROFILE = MeasurementProfile.for_objectives(60, 10, 0.5, fd_objectives_us=[5_000])
KEY = SeriesKey("svc-1", "uni-a", "uni-b", "H")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        urls: Iterator[str] = iter([f"sqlite:///{tmp_path / 'series.db'}"])
    else:
        admin_url = os.environ.get("LSO_TEST_POSTGRES_URL", "")
        require(bool(admin_url), "LSO_TEST_POSTGRES_URL is not set")
        urls = _fresh_database(admin_url)
    for url in urls:
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)  # psycopg 3, as Settings does
        migrate(url)
        db = Database(url)
        yield db
        db.dispose()


def minutes(start: int, count: int, delivered: int = 1000) -> np.ndarray:
    return np.concatenate(
        [
            series.summarize(PROFILE, start + 60 * i, 1000, delivered, [1_000 + i, 7_000], [50], [False] * 6)
            for i in range(count)
        ]
    )


def test_round_trip_keeps_every_field(database: Database) -> None:
    records = minutes(0, 30)
    with database.session() as session:
        assert measurement_store.ingest(session, PROFILE, [(KEY, records)]) == 30
    with database.read() as session:
        found = measurement_store.read(session, KEY, 0, DAY_S)
    assert found is not None and found.profile == PROFILE
    assert found.records.tobytes() == records.tobytes()
    # The 2nd minute's delays 1001 µs and 7000 µs: sum, min, max exact; one sample below 5001 µs.
    second = found.records[1]
    assert (second["fd_sum_us"], second["fd_min_us"], second["fd_max_us"]) == (8_001, 1_001, 7_000)
    assert second["fd_bins"][: PROFILE.fd_bins_us.index(5_001)].sum() == 1


def test_reingest_replaces_the_interval(database: Database) -> None:
    with database.session() as session:
        measurement_store.ingest(session, PROFILE, [(KEY, minutes(0, 10))])
    with database.session() as session:  # a retried fetch of minutes 5-14, now with loss
        measurement_store.ingest(session, PROFILE, [(KEY, minutes(300, 10, delivered=900))])
    with database.read() as session:
        found = measurement_store.read(session, KEY, 0, DAY_S)
    assert found is not None
    assert found.records["start"].tolist() == [60 * i for i in range(15)]
    assert found.records["delivered"].tolist() == [1000] * 5 + [900] * 10


def test_days_are_separate_blocks_read_as_one_period(database: Database) -> None:
    other = SeriesKey("svc-1", "uni-b", "uni-a", "H")
    with database.session() as session:
        measurement_store.ingest(session, PROFILE, [(KEY, minutes(DAY_S - 120, 4)), (other, minutes(0, 2))])
    with database.read() as session:
        blocks = session.scalar(select(func.count()).select_from(MeasurementBlock))
        window = measurement_store.read(session, KEY, DAY_S - 60, DAY_S + 60)
        everything = measurement_store.read_service(session, "svc-1", 0, 2 * DAY_S)
        nothing = measurement_store.read(session, KEY, 10 * DAY_S, 11 * DAY_S)
    assert blocks == 3  # KEY on day 0 and day 1, the other pair on day 0
    assert window is not None and window.records["start"].tolist() == [DAY_S - 60, DAY_S]
    assert [s.key for s in everything] == sorted([KEY, other])
    assert nothing is None


def test_records_of_another_profile_are_refused(database: Database) -> None:
    other = MeasurementProfile(60, 10, 0.1)
    with database.session() as session, pytest.raises(ValueError, match="profile"):
        measurement_store.ingest(session, other, [(KEY, minutes(0, 1))])


def test_a_period_measured_under_two_profiles_is_refused(database: Database) -> None:
    other = MeasurementProfile(60, 10, 0.1)
    with database.session() as session:
        measurement_store.ingest(session, PROFILE, [(KEY, minutes(0, 1))])
        day_one = series.empty(other, 1)
        day_one["start"] = DAY_S
        measurement_store.ingest(session, other, [(KEY, day_one)])
    with database.read() as session, pytest.raises(ValueError, match="several profiles"):
        measurement_store.read(session, KEY, 0, 2 * DAY_S)


def test_a_day_of_minutes_is_compact(database: Database) -> None:
    # 1440 one-minute records of a steady service: the raw records are 1440 × itemsize bytes; the block
    # keeps them compressed to under a fifth of that.
    with database.session() as session:
        measurement_store.ingest(session, PROFILE, [(KEY, minutes(0, 1440))])
    with database.read() as session:
        stored = session.scalar(select(func.length(MeasurementBlock.data)))
    raw = 1440 * series.interval_dtype(PROFILE).itemsize
    assert stored is not None and stored < raw / 5


def test_summarize_checks_its_input() -> None:
    with pytest.raises(ValueError, match="multiple"):
        series.summarize(PROFILE, 30, 0, 0, [], [], [False] * 6)
    with pytest.raises(ValueError, match="6 Δt"):
        series.summarize(PROFILE, 60, 0, 0, [], [], [False] * 5)
    assert MeasurementProfile.from_json(PROFILE.to_json()) == PROFILE


def test_polled_intervals_are_parts_until_compacted(database: Database) -> None:
    # Four polls of one minute each, the third one retried: four parts of day 0, five records read as four.
    polls = [minutes(60 * i, 1) for i in (0, 1, 2, 2, 3)]
    polls[3]["delivered"] = 900  # the retry's measurement is the one kept
    for poll in polls:
        with database.session() as session:
            measurement_store.ingest(session, PROFILE, [(KEY, poll)])
    with database.read() as session:
        before = measurement_store.read(session, KEY, 0, DAY_S)
    with database.session() as session:
        assert measurement_store.compact(session, before=DAY_S - 1) == 0  # day 0 has not ended yet
        assert measurement_store.compact(session, before=DAY_S) == 1
    with database.read() as session:
        parts = session.scalar(select(func.count()).select_from(MeasurementBlock))
        after = measurement_store.read(session, KEY, 0, DAY_S)
    assert before is not None and after is not None
    assert before.records["start"].tolist() == [0, 60, 120, 180]
    assert before.records["delivered"].tolist() == [1000, 1000, 900, 1000]
    assert parts == 1
    assert after.records.tobytes() == before.records.tobytes()


def test_migration_matches_the_table(database: Database) -> None:
    with database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert [d for d in differences if "measurement_" in str(d)] == []


def test_a_polled_record_is_stored_as_it_is_and_several_compressed(database: Database) -> None:
    polled, day, twice = minutes(0, 1), minutes(60, 30), minutes(1_860, 2)
    with database.session() as session:
        measurement_store.ingest(session, PROFILE, [(KEY, polled)])
        measurement_store.ingest(session, PROFILE, [(KEY, day)])
        # One call bringing the series' day in two pieces: one part of both.
        measurement_store.ingest(session, PROFILE, [(KEY, twice[:1]), (KEY, twice[1:])])
    with database.read() as session:
        blocks = session.execute(
            select(MeasurementBlock.count, MeasurementBlock.data).order_by(MeasurementBlock.part)
        ).all()
        found = measurement_store.read(session, KEY, 0, DAY_S)
    assert [count for count, _ in blocks] == [1, 30, 2]
    assert blocks[0].data == polled.tobytes()
    assert zlib.decompress(blocks[1].data) == day.tobytes() and len(blocks[1].data) < len(day.tobytes())
    assert zlib.decompress(blocks[2].data) == twice.tobytes()
    assert found is not None
    assert found.records.tobytes() == np.concatenate([polled, day, twice]).tobytes()


def test_the_profile_is_stored_once(database: Database) -> None:
    other = SeriesKey("svc-2", "uni-a", "uni-b", "H")
    with database.session() as session:
        measurement_store.ingest(session, PROFILE, [(KEY, minutes(0, 1))])
    with database.session() as session:
        measurement_store.ingest(session, PROFILE, [(KEY, minutes(60, 1)), (other, minutes(60, 1))])
    with database.read() as session:
        profiles = session.execute(select(StoredProfile.id, StoredProfile.profile)).all()
        referred = session.scalars(select(MeasurementBlock.profile_id).distinct()).all()
    assert [tuple(row) for row in profiles] == [(measurement_store.profile_id(PROFILE), PROFILE.to_json())]
    assert referred == [measurement_store.profile_id(PROFILE)]
