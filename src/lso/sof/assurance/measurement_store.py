"""The measurement store: interval series (:mod:`lso.sof.assurance.series`) in SQL rows.

Storage: rows of ``measurement_block`` hold one UTC day of one series, ``data`` being its records as a
numpy byte string — zlib-compressed when the part has several records; a part of one record (what a poll
adds) is stored as it is, since compressing 160 bytes costs more than the bytes it saves until
:func:`compact` folds the day. Ingest only inserts — a new ``part`` of the day, numbered by ingest time —
so a poll that brings one interval of every service costs one small insert each, never a
read-modify-write of the day. Reading merges a day's parts, a later part's record replacing an earlier one
of the same start (a retried fetch adds nothing twice); :func:`compact` folds finished days into one part.
A block names its measurement profile by :func:`profile_id`; the profile itself is stored once, in
``measurement_profile``.
"""

from __future__ import annotations

import functools
import hashlib
import time
import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from sqlalchemy import BigInteger, Integer, LargeBinary, String, Text, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from lso.db import Base
from lso.sof.assurance.series import DAY_S, IntervalSeries, MeasurementProfile, SeriesKey, interval_dtype


class MeasurementBlock(Base):
    """One ingest of one UTC day of one series: its interval records packed (see the module docstring)."""

    __tablename__ = "measurement_block"

    service_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    source: Mapped[str] = mapped_column(String(128), primary_key=True)
    sink: Mapped[str] = mapped_column(String(128), primary_key=True)
    cos_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[int] = mapped_column(Integer, primary_key=True)
    part: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    # No foreign key: ingest writes the profile in the same transaction, and a key check per polled row
    # would be paid on the hottest path for what one statement per ingest already guarantees.
    profile_id: Mapped[int] = mapped_column(BigInteger)


class StoredProfile(Base):
    """A measurement profile, once for all the blocks measured under it."""

    __tablename__ = "measurement_profile"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    profile: Mapped[str] = mapped_column(Text)


@functools.lru_cache(maxsize=64)
def profile_id(profile: MeasurementProfile) -> int:
    """The profile's key in ``measurement_profile``: 64 bits of a hash of its JSON, so every process
    derives the same key without a lookup (migration 0004 spells the same rule out)."""
    digest = hashlib.blake2b(profile.to_json().encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


def ingest(
    session: Session, profile: MeasurementProfile, batch: Iterable[tuple[SeriesKey, np.ndarray]]
) -> int:
    """Add interval records to their series as new day parts; returns how many records were written.

    A poll brings one record for each of thousands of series: their starts are checked together in one
    numpy array made from the records' bytes (concatenating thousands of small structured arrays would
    cost more than storing them), and those bytes become the parts as they are."""
    dtype = interval_dtype(profile)
    polled = list(batch)
    if any(records.dtype != dtype for _, records in polled):
        raise ValueError("records do not match the measurement profile")
    chunks = [records.tobytes() for _, records in polled]
    starts = np.frombuffer(b"".join(chunks), dtype=dtype)["start"]
    if (starts % profile.interval_s).any():
        raise ValueError("an interval starts on a multiple of the measurement interval")
    day_of = starts // DAY_S
    days = day_of.tolist()
    # The bytes of each series' records by day, keyed by the caller's SeriesKey objects: no object is
    # made per record that outlives the loop, so a poll of thousands of series sets off no garbage
    # collection of the whole heap (which cost as much as the rest of the loop).
    by_day: dict[int, dict[SeriesKey, bytes]] = defaultdict(dict)
    first = 0
    for (key, _), chunk in zip(polled, chunks, strict=True):
        count = len(chunk) // dtype.itemsize
        if count == 1:
            _add(by_day[days[first]], key, chunk)
        else:
            records = np.frombuffer(chunk, dtype=dtype)
            of_record = day_of[first : first + count]
            for day in np.unique(of_record).tolist():
                _add(by_day[day], key, records[of_record == day].tobytes())
        first += count
    if not by_day:
        return 0
    _register(session, profile)
    part = _next_part()
    pid = profile_id(profile)
    _insert(
        session,
        (
            _row(key, day, part, pid, raw, dtype)
            for day, parts in by_day.items()
            for key, raw in parts.items()
        ),
    )
    return len(starts)


_last_part = 0


def _next_part() -> int:
    """Part numbers follow ingest time (µs) and never repeat within the process."""
    global _last_part
    _last_part = max(time.time_ns() // 1000, _last_part + 1)
    return _last_part


_COLUMNS = ("service_id", "source", "sink", "cos_name", "day", "part", "profile_id", "count", "data")


def _add(parts: dict[SeriesKey, bytes], key: SeriesKey, raw: bytes) -> None:
    """Add records to the series' part of the day (a batch may bring a series' day in several pieces)."""
    earlier = parts.setdefault(key, raw)
    if earlier is not raw:
        parts[key] = earlier + raw


def _row(key: SeriesKey, day: int, part: int, pid: int, raw: bytes, dtype: np.dtype[Any]) -> tuple[Any, ...]:
    """The values of :data:`_COLUMNS` for the part ``part`` of the series' day."""
    count = len(raw) // dtype.itemsize
    data = raw if count == 1 else zlib.compress(raw, 1)
    return (key.service_id, key.source, key.sink, key.cos_name, day, part, pid, count, data)


def _records(count: int, data: bytes, dtype: np.dtype[Any]) -> np.ndarray:
    """A block's records: the count tells a single record, stored as it is, from compressed ones."""
    return np.frombuffer(data if count == 1 else zlib.decompress(data), dtype=dtype)


def _register(session: Session, profile: MeasurementProfile) -> None:
    """Store the profile unless it is already (one statement per ingest; concurrent ingests agree)."""
    connection = session.connection()
    marker = _marker(session)
    connection.exec_driver_sql(
        f"INSERT INTO measurement_profile (id, profile) VALUES ({marker}, {marker}) ON CONFLICT DO NOTHING",
        (profile_id(profile), profile.to_json()),
    )


def _insert(session: Session, rows: Iterable[tuple[Any, ...]]) -> None:
    """One executemany straight to the driver's cursor: a poll inserts a row per series, and SQLAlchemy's
    per-row parameter processing would cost more than the insert itself. The drivers (sqlite3, psycopg)
    take the rows as they are made, so each is freed once bound rather than all held until the end."""
    columns = ", ".join(_COLUMNS)
    values = ", ".join([_marker(session)] * len(_COLUMNS))
    driver: Any = session.connection().connection.driver_connection  # typed for Sequence, takes Iterable
    cursor = driver.cursor()
    try:
        cursor.executemany(f"INSERT INTO measurement_block ({columns}) VALUES ({values})", rows)
    finally:
        cursor.close()


def _marker(session: Session) -> str:
    return "?" if session.connection().dialect.paramstyle == "qmark" else "%s"


def _merge(blocks: Sequence[Any], dtype: np.dtype[Any]) -> np.ndarray:
    """The records of parts (in part order), one per start — the latest part's — sorted by start."""
    if len(blocks) == 1:
        return _records(blocks[0].count, blocks[0].data, dtype)
    merged = np.concatenate([_records(b.count, b.data, dtype) for b in blocks])
    # np.unique on the reversed starts finds each start's last occurrence, sorted by start.
    _, last = np.unique(merged["start"][::-1], return_index=True)
    return merged[len(merged) - 1 - last]


_SERIES_DAY = (
    MeasurementBlock.service_id,
    MeasurementBlock.source,
    MeasurementBlock.sink,
    MeasurementBlock.cos_name,
    MeasurementBlock.day,
)
"""The columns that name one day of one series: the blocks of a day are its parts."""


def compact(session: Session, before: int) -> int:
    """Fold the parts of every day that ended by ``before`` (epoch seconds) into one part; returns the
    number of days compacted. Run once a day: reads stay correct without it, only slower."""
    day_end = before // DAY_S
    split = session.execute(
        select(*_SERIES_DAY)
        .where(MeasurementBlock.day < day_end)
        .group_by(*_SERIES_DAY)
        .having(func.count() > 1)
    ).all()
    for service_id, source, sink, cos_name, day in split:
        where = (
            MeasurementBlock.service_id == service_id,
            MeasurementBlock.source == source,
            MeasurementBlock.sink == sink,
            MeasurementBlock.cos_name == cos_name,
            MeasurementBlock.day == day,
        )
        blocks = list(session.scalars(select(MeasurementBlock).where(*where).order_by(MeasurementBlock.part)))
        latest = blocks[-1]
        dtype = interval_dtype(_profiles(session, {latest.profile_id})[latest.profile_id])
        # Parts of an older profile cannot be merged with the latest; the latest measurement wins.
        records = _merge([b for b in blocks if b.profile_id == latest.profile_id], dtype)
        key = SeriesKey(service_id, source, sink, cos_name)
        # Only the parts merged here: a late part inserted meanwhile stays for the next compaction.
        merged_parts = [block.part for block in blocks]
        session.execute(delete(MeasurementBlock).where(*where, MeasurementBlock.part.in_(merged_parts)))
        _insert(session, [_row(key, day, latest.part, latest.profile_id, records.tobytes(), dtype)])
    return len(split)


def read(session: Session, key: SeriesKey, start: int, end: int) -> IntervalSeries | None:
    """The records of ``key`` whose interval starts in [start, end) (epoch seconds); None if there are
    none. A period whose days were measured under different profiles is refused (ValueError): its bins
    cannot be added up."""
    series = read_service(session, key.service_id, start, end, keys=[key])
    return series[0] if series else None


def read_service(
    session: Session, service_id: str, start: int, end: int, keys: Sequence[SeriesKey] | None = None
) -> list[IntervalSeries]:
    """Every series of a service (or only ``keys``) over [start, end), sorted by key."""
    found = read_services(session, [service_id], start, end).get(service_id, [])
    return [one for one in found if keys is None or one.key in keys]


def read_services(
    session: Session, service_ids: Sequence[str], start: int, end: int
) -> dict[str, list[IntervalSeries]]:
    """:func:`read_service` for many services in few queries (the periodic assessment of all services)."""
    columns = (*_SERIES_DAY, MeasurementBlock.profile_id, MeasurementBlock.count, MeasurementBlock.data)
    blocks: dict[SeriesKey, list[Any]] = defaultdict(list)
    for offset in range(0, len(service_ids), 500):  # within every database's bound-parameter limit
        query = (
            select(*columns)
            .where(
                MeasurementBlock.service_id.in_(service_ids[offset : offset + 500]),
                MeasurementBlock.day >= start // DAY_S,
                MeasurementBlock.day <= (end - 1) // DAY_S,
            )
            .order_by(*_SERIES_DAY, MeasurementBlock.part)
        )
        for row in session.execute(query):
            blocks[SeriesKey(row.service_id, row.source, row.sink, row.cos_name)].append(row)
    profiles = _profiles(session, {row.profile_id for rows in blocks.values() for row in rows})
    result: dict[str, list[IntervalSeries]] = defaultdict(list)
    for key, rows in blocks.items():
        measured_by = {profiles[pid] for pid in {row.profile_id for row in rows}}
        if len(measured_by) != 1:
            raise ValueError(f"{key} was measured under several profiles in this period")
        profile = measured_by.pop()
        dtype = interval_dtype(profile)
        by_day: dict[int, list[Any]] = defaultdict(list)
        for row in rows:
            by_day[row.day].append(row)
        records = np.concatenate([_merge(parts, dtype) for parts in by_day.values()])
        records = records[(records["start"] >= start) & (records["start"] < end)]
        if len(records):
            result[key.service_id].append(IntervalSeries(key, profile, records))
    return result


def _profiles(session: Session, ids: set[int]) -> dict[int, MeasurementProfile]:
    """The stored profiles of these ids."""
    if not ids:
        return {}
    found = session.execute(select(StoredProfile.id, StoredProfile.profile).where(StoredProfile.id.in_(ids)))
    return {pid: _profile(text) for pid, text in found}


@functools.lru_cache(maxsize=64)
def _profile(text: str) -> MeasurementProfile:
    return MeasurementProfile.from_json(text)
