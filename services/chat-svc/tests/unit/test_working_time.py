"""chat_svc.working_time: when customer service is open, and open time added to an instant (pure)."""

from datetime import UTC, date, datetime, timedelta

import pytest
from chat_svc.working_time import ALWAYS_OPEN, Interval, Schedule
from contracts.time import BEIJING_TZ

NINE_TO_SIX = (Interval(9 * 60, 18 * 60),)
WEEKDAYS = Schedule(weekly=(NINE_TO_SIX,) * 5 + ((), ()))


def bj(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """December 2026 in Beijing time: the 7th is a Monday."""
    return datetime(2026, 12, day, hour, minute, second, tzinfo=BEIJING_TZ)


def test_always_open_is_open_and_adds_plain_seconds() -> None:
    at = bj(12, 3)
    assert ALWAYS_OPEN.is_open(at)
    assert ALWAYS_OPEN.add(at, 90) == at + timedelta(seconds=90)


@pytest.mark.parametrize(("at", "open_"), [
    (bj(7, 8, 59, 59), False), (bj(7, 9), True), (bj(7, 17, 59, 59), True), (bj(7, 18), False),
    (bj(12, 10), False), (bj(13, 10), False), (bj(11, 12), True),
])
def test_is_open_within_start_inclusive_end_exclusive_weekdays_only(at: datetime, open_: bool) -> None:
    assert WEEKDAYS.is_open(at) is open_


def test_is_open_reads_the_instant_in_beijing_time_whatever_its_zone() -> None:
    assert WEEKDAYS.is_open(datetime(2026, 12, 7, 1, 0, tzinfo=UTC))  # 09:00 in Beijing
    assert not WEEKDAYS.is_open(datetime(2026, 12, 7, 0, 59, tzinfo=UTC))


def test_add_within_one_interval() -> None:
    assert WEEKDAYS.add(bj(7, 10), 60) == bj(7, 10, 1)


def test_add_ending_exactly_at_closing_time_ends_there() -> None:
    assert WEEKDAYS.add(bj(7, 17), 3600) == bj(7, 18)


def test_add_carries_over_the_night_to_the_next_opening() -> None:
    assert WEEKDAYS.add(bj(7, 17, 59), 120) == bj(8, 9, 1)


def test_add_skips_the_weekend() -> None:
    assert WEEKDAYS.add(bj(11, 17, 59), 120) == bj(14, 9, 1)  # Friday -> Monday


def test_add_from_a_closed_time_starts_counting_at_the_next_opening() -> None:
    assert WEEKDAYS.add(bj(12, 15), 60) == bj(14, 9, 1)  # Saturday
    assert WEEKDAYS.add(bj(7, 7), 60) == bj(7, 9, 1)


def test_add_zero_or_less_is_the_start() -> None:
    assert WEEKDAYS.add(bj(12, 15), 0) == bj(12, 15)


def test_add_spans_several_working_days() -> None:
    assert WEEKDAYS.add(bj(7, 9), 9 * 3600 * 2 + 30) == bj(9, 9, 0, 30)


def test_a_holiday_is_closed_all_day_and_skipped() -> None:
    schedule = Schedule(weekly=WEEKDAYS.weekly, exceptions={date(2026, 12, 8): ()})
    assert not schedule.is_open(bj(8, 10))
    assert schedule.add(bj(7, 17, 59), 120) == bj(9, 9, 1)


def test_a_special_day_uses_its_own_intervals_even_on_a_weekend() -> None:
    schedule = Schedule(weekly=WEEKDAYS.weekly, exceptions={date(2026, 12, 12): (Interval(10 * 60, 12 * 60),)})
    assert schedule.is_open(bj(12, 11))
    assert not schedule.is_open(bj(12, 9, 30))
    assert schedule.add(bj(11, 17, 59), 120) == bj(12, 10, 1)


def test_open_across_midnight_counts_without_a_gap() -> None:
    late = (Interval(22 * 60, 24 * 60),)
    early = (Interval(0, 2 * 60),)
    schedule = Schedule(weekly=(late, early) + ((),) * 5)
    assert schedule.is_open(bj(7, 23, 59, 59))
    assert schedule.is_open(bj(8, 0))
    assert not schedule.is_open(bj(8, 2))
    assert schedule.add(bj(7, 23, 59), 120) == bj(8, 0, 1)


def test_several_intervals_a_day_skip_the_lunch_break() -> None:
    day = (Interval(9 * 60, 12 * 60), Interval(13 * 60, 18 * 60))
    schedule = Schedule(weekly=(day,) * 7)
    assert not schedule.is_open(bj(7, 12, 30))
    assert schedule.add(bj(7, 11, 59), 120) == bj(7, 13, 1)


def test_always_open_schedule_adds_plain_seconds_across_days() -> None:
    schedule = Schedule(weekly=((Interval(0, 1440),),) * 7)
    assert schedule.add(bj(7, 12), 3 * 86_400) == bj(10, 12)


def test_next_open_is_now_when_open_else_the_next_opening() -> None:
    assert WEEKDAYS.next_open(bj(7, 10)) == bj(7, 10)
    assert WEEKDAYS.next_open(bj(11, 18)) == bj(14, 9)


def test_a_week_without_open_time_is_refused() -> None:
    with pytest.raises(ValueError, match="no open time"):
        Schedule(weekly=((),) * 7)


def test_overlapping_intervals_are_refused() -> None:
    with pytest.raises(ValueError, match="overlap"):
        Schedule(weekly=((Interval(9 * 60, 12 * 60), Interval(11 * 60, 13 * 60)),) + ((),) * 6)


@pytest.mark.parametrize(("start", "end"), [(600, 600), (700, 600), (-1, 10), (0, 1441)])
def test_an_interval_must_end_after_it_starts_within_the_day(start: int, end: int) -> None:
    with pytest.raises(ValueError):
        Interval(start, end)


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        WEEKDAYS.is_open(datetime(2026, 12, 7, 10))
