"""Date-times as MEF APIs write them: RFC 3339 in UTC with milliseconds and a ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """One fixed format, so that stored date strings also compare correctly as text."""
    utc = moment.astimezone(UTC)
    # strftime's %Y does not pad years before 1000, which RFC 3339 requires (four digits)
    return f"{utc.year:04d}-" + utc.strftime("%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def now_iso() -> str:
    return iso(utcnow())


def parse(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def normalise(text: str) -> str:
    """Any RFC 3339 date-time a client sends, rewritten in the stored format."""
    return iso(parse(text))


def later(days: float = 0, hours: float = 0) -> str:
    return iso(utcnow() + timedelta(days=days, hours=hours))
