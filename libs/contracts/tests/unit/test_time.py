from datetime import UTC, datetime, timedelta, timezone

import pytest
from contracts.time import BEIJING_TZ, BeijingDatetime, now_beijing, parse_iso, to_beijing_iso
from pydantic import BaseModel, ValidationError


class Stamp(BaseModel):
    at: BeijingDatetime


def test_beijing_iso_has_milliseconds_and_plus_eight_offset():
    dt = datetime(2025, 11, 23, 20, 0, tzinfo=BEIJING_TZ)
    assert to_beijing_iso(dt) == "2025-11-23T20:00:00.000+08:00"


def test_beijing_iso_converts_other_offsets():
    utc_noon = datetime(2025, 11, 23, 12, 0, tzinfo=UTC)
    assert to_beijing_iso(utc_noon) == "2025-11-23T20:00:00.000+08:00"
    new_york = timezone(timedelta(hours=-5))
    seven_am = datetime(2025, 11, 23, 7, 0, 0, 123456, tzinfo=new_york)
    assert to_beijing_iso(seven_am) == "2025-11-23T20:00:00.123+08:00"


def test_beijing_iso_rejects_naive_datetime():
    with pytest.raises(ValueError, match="naive"):
        to_beijing_iso(datetime(2025, 11, 23, 20, 0))


@pytest.mark.parametrize(
    "text",
    [
        "2025-11-23T20:00:00.000+08:00",
        "2025-11-23T12:00:00Z",
        "2025-11-23T12:00:00.000+00:00",
        "2025-11-23T07:00:00-05:00",
    ],
)
def test_parse_iso_accepts_any_offset_or_z(text):
    assert parse_iso(text) == datetime(2025, 11, 23, 20, 0, tzinfo=BEIJING_TZ)


@pytest.mark.parametrize("text", ["2025-11-23T20:00:00", "2025-11-23", "not a date", ""])
def test_parse_iso_rejects_naive_or_garbage(text):
    with pytest.raises(ValueError):
        parse_iso(text)


def test_now_beijing_is_aware_in_beijing_at_millisecond_precision():
    now = now_beijing()
    assert now.utcoffset() == timedelta(hours=8)
    assert now.microsecond % 1000 == 0


def test_beijing_datetime_serializes_to_the_beijing_string_in_python_and_json_mode():
    stamp = Stamp(at="2025-11-23T12:00:00Z")
    assert stamp.model_dump() == {"at": "2025-11-23T20:00:00.000+08:00"}
    assert stamp.model_dump_json() == '{"at":"2025-11-23T20:00:00.000+08:00"}'


def test_beijing_datetime_accepts_aware_datetime_and_round_trips():
    stamp = Stamp(at=datetime(2025, 11, 23, 12, 0, 0, 999999, tzinfo=UTC))
    assert stamp.at == datetime(2025, 11, 23, 20, 0, 0, 999000, tzinfo=BEIJING_TZ)
    assert Stamp.model_validate_json(stamp.model_dump_json()) == stamp


@pytest.mark.parametrize("value", ["2025-11-23T20:00:00", datetime(2025, 11, 23, 20, 0), 1732363200, None])
def test_beijing_datetime_rejects_naive_and_non_datetime_values(value):
    with pytest.raises(ValidationError) as exc:
        Stamp(at=value)
    assert exc.value.errors()[0]["loc"] == ("at",)


def test_beijing_datetime_json_schema_is_a_date_time_string():
    schema = Stamp.model_json_schema()["properties"]["at"]
    assert {k: v for k, v in schema.items() if k != "title"} == {"type": "string", "format": "date-time"}


@pytest.mark.parametrize("value", [
    "9999-12-31T23:59:59-12:00",            # the attack: later than Python can write in UTC
    "9999-12-31T23:00:00Z",                 # fine in UTC, past 9999 in Beijing time
    "0001-01-01T00:00:00+14:00",            # before year 1 in UTC
    "0001-01-01T00:00:00.000+08:00",
    "0001-01-01T08:00:00.000+08:00",        # datetime.min in UTC: asyncpg would store it as -infinity
    datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-23, minutes=-59))),
])
def test_a_timestamp_outside_what_can_be_stored_is_a_validation_error_naming_the_field(value):
    with pytest.raises(ValidationError) as exc:
        Stamp(at=value)
    [error] = exc.value.errors()
    assert error["loc"] == ("at",) and "out of range" in error["msg"]


@pytest.mark.parametrize(("text", "beijing"), [
    ("0001-01-01T00:00:00.001Z", "0001-01-01T08:00:00.001+08:00"),
    ("9999-12-31T23:59:59.999+08:00", "9999-12-31T23:59:59.999+08:00"),
    ("9999-12-31T15:59:59.9999Z", "9999-12-31T23:59:59.999+08:00"),
])
def test_the_first_and_last_storable_instants_are_accepted(text, beijing):
    assert Stamp(at=text).model_dump()["at"] == beijing
