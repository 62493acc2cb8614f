"""Beijing time: the one wire format for every timestamp on the platform.

Every timestamp that crosses a boundary is written as ``2025-11-23T20:00:00.000+08:00``: Beijing offset,
millisecond precision. Readers accept any ISO 8601 string with an offset (or ``Z``) and refuse naive ones,
because a time without an offset is ambiguous.
"""

from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Any

from pydantic import PlainSerializer, PlainValidator, WithJsonSchema

BEIJING_TZ = timezone(timedelta(hours=8))
EARLIEST = datetime(1, 1, 1, 0, 0, 0, 1000, tzinfo=UTC)
"""The earliest instant a timestamp may name: the first millisecond after Python's first instant in UTC
(PostgreSQL's timestamptz reaches further, but asyncpg writes ``datetime.min`` in UTC as ``-infinity`` and reads
it back as a naive datetime, found by fuzzing)."""
LATEST = datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=BEIJING_TZ)
"""The latest instant: Python's last millisecond in Beijing time (9999-12-31T15:59:59.999Z). Later instants
cannot be written as Beijing time, so a string like ``9999-12-31T23:59:59-12:00`` is refused, not a crash."""


def now_beijing() -> datetime:
    """The current time as an aware datetime in Beijing time, truncated to milliseconds."""
    return _truncate_ms(datetime.now(BEIJING_TZ))


def to_beijing_iso(dt: datetime) -> str:
    """Format an aware datetime as ``YYYY-MM-DDTHH:MM:SS.mmm+08:00``; naive datetimes raise ValueError."""
    _require_aware(dt)
    return dt.astimezone(BEIJING_TZ).isoformat(timespec="milliseconds")


def parse_iso(value: str) -> datetime:
    """Parse ISO 8601 with an offset or ``Z`` into an aware datetime; a naive string raises ValueError."""
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO 8601 string, got {type(value).__name__}")
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not an ISO 8601 datetime: {value!r}") from None
    if dt.tzinfo is None:
        raise ValueError(f"datetime {value!r} has no UTC offset; write it like 2025-11-23T20:00:00.000+08:00")
    return dt


def _require_aware(dt: datetime) -> None:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("naive datetime: attach a timezone (e.g. BEIJING_TZ) first")


def _truncate_ms(dt: datetime) -> datetime:
    return dt.replace(microsecond=dt.microsecond // 1000 * 1000)


def _validate_beijing(value: Any) -> datetime:
    if isinstance(value, str):
        dt = parse_iso(value)
    elif isinstance(value, datetime):
        _require_aware(value)
        dt = value
    else:
        kind = type(value).__name__
        raise ValueError(f"expected an ISO 8601 string with offset or an aware datetime, got {kind}")  # noqa: TRY004 (pydantic reports ValueError, not TypeError, as a validation error)
    return in_range(_truncate_ms(dt)).astimezone(BEIJING_TZ)


def in_range(dt: datetime) -> datetime:
    """``dt`` if it lies within [EARLIEST, LATEST], else ValueError (a validation error naming the field).

    Comparing aware datetimes subtracts their offsets without building a new datetime, so this check itself
    cannot overflow the way ``astimezone`` does for ``9999-12-31T23:59:59-12:00``."""
    if not EARLIEST <= dt <= LATEST:
        raise ValueError(
            f"{dt.isoformat()} is out of range: timestamps must lie between "
            f"{to_beijing_iso(EARLIEST)} and {to_beijing_iso(LATEST)}"
        )
    return dt


BeijingDatetime = Annotated[
    datetime,
    PlainValidator(_validate_beijing),
    PlainSerializer(to_beijing_iso, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""An aware datetime, normalised on input to Beijing time at millisecond precision (so a value survives a
round trip unchanged) and written out as the Beijing ISO string in both python and json mode."""
