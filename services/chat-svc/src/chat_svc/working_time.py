"""Working time: when customer service is open, as a pure calculation (no I/O).

`WorkingTime` is the interface the rest of chat-svc asks: `is_open(at)` and `add(start, seconds)` (the instant
`seconds` of open time after `start`: reply deadlines pause outside working hours). `ALWAYS_OPEN` is the answer
when nothing is configured. `Schedule` is the configured one: a weekly schedule in Beijing time (per weekday
zero or more [start, end) intervals, in minutes of the day, 0-1440) plus dated exceptions (a date with no
interval is closed all day; a date with intervals uses them instead of its weekday's). The loader that builds
it from the stored configuration is chat_svc.working_hours_store.working_time.

Beijing time is Asia/Shanghai, a fixed UTC+8 with no daylight saving (none since 1991), so a day is always
24 hours and a fixed offset is exact. An interval ending at 1440 (24:00) and one starting at 0 on the next day
keep customer service open across midnight.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from typing import Protocol

from contracts.time import BEIJING_TZ

MINUTES_PER_DAY = 24 * 60


class WorkingTime(Protocol):
    def is_open(self, at: datetime) -> bool: ...

    def add(self, start: datetime, seconds: float) -> datetime:  # start + `seconds` of open time
        ...


class _AlwaysOpen:
    def is_open(self, at: datetime) -> bool:
        return True

    def add(self, start: datetime, seconds: float) -> datetime:
        return start + timedelta(seconds=seconds)

    def next_open(self, at: datetime) -> datetime:
        return at


ALWAYS_OPEN: WorkingTime = _AlwaysOpen()
"""Nothing configured: always open (is_open is always True; add = start + timedelta(seconds))."""


@dataclass(frozen=True, order=True)
class Interval:
    """[start, end) in minutes of a Beijing day; 0 <= start < end <= 1440 (1440: midnight at the day's end)."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end <= MINUTES_PER_DAY:
            raise ValueError(f"interval [{self.start}, {self.end}) minutes: need 0 <= start < end <= 1440")


def check_intervals(intervals: tuple[Interval, ...]) -> None:
    """Sorted intervals must not overlap (touching is fine: [9:00, 12:00) then [12:00, 18:00))."""
    for before, after in pairwise(intervals):
        if after.start < before.end:
            raise ValueError(f"intervals [{before.start}, {before.end}) and [{after.start}, {after.end}) overlap")


@dataclass(frozen=True)
class Schedule:
    """A weekly schedule (`weekly[0]` is Monday ... `weekly[6]` Sunday) plus dated exceptions. The week must
    have some open time, so `add` always ends (the exceptions are finitely many dates)."""

    weekly: tuple[tuple[Interval, ...], ...]
    exceptions: Mapping[date, tuple[Interval, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.weekly) != 7:
            raise ValueError("weekly: one entry per weekday, Monday first")
        if not any(self.weekly):
            raise ValueError("weekly: no open time in the whole week")
        for day in (*self.weekly, *self.exceptions.values()):
            check_intervals(tuple(sorted(day)))

    def intervals_on(self, day: date) -> tuple[Interval, ...]:
        found = self.exceptions.get(day)
        return tuple(sorted(found if found is not None else self.weekly[day.weekday()]))

    def is_open(self, at: datetime) -> bool:
        local = _beijing(at)
        minute = (local - _midnight(local.date())) / timedelta(minutes=1)
        return any(i.start <= minute < i.end for i in self.intervals_on(local.date()))

    def add(self, start: datetime, seconds: float) -> datetime:
        """The instant when `seconds` of open time have passed since `start` (start itself for 0 or less)."""
        if seconds <= 0:
            return start
        remaining = timedelta(seconds=seconds)
        for span_start, span_end in self.spans(start):
            if remaining <= span_end - span_start:
                return span_start + remaining
            remaining -= span_end - span_start
        raise AssertionError("unreachable: every week has open time")  # pragma: no cover

    def next_open(self, at: datetime) -> datetime:
        """`at` (in Beijing time) when open, else the start of the next open interval."""
        span_start, _ = next(self.spans(at))
        return span_start

    def spans(self, since: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The open intervals from `since` on, in order, as Beijing datetimes, the first clipped to start at
        `since`. Endless. Touching intervals come as separate spans (an open stretch across midnight is two)."""
        local = _beijing(since)
        day = local.date()
        while True:
            midnight = _midnight(day)
            for interval in self.intervals_on(day):
                end = midnight + timedelta(minutes=interval.end)
                if end > local:
                    yield max(midnight + timedelta(minutes=interval.start), local), end
            day += timedelta(days=1)


def _beijing(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("a naive datetime is ambiguous: give a time zone")
    return at.astimezone(BEIJING_TZ)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=BEIJING_TZ)
