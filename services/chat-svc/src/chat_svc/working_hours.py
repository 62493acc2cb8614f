"""The working hours and greeting a supervisor sets (`PUT /api/v4/customer-service/working-hours`): the models
at the REST boundary, their validation, and the `WorkingTime` they make (chat_svc.working_time). No I/O
(chat_svc.working_hours_store reads and writes them).

- `weekly`: per weekday (`mon` ... `sun`) zero or more `[start, end)` intervals of Beijing time, `"HH:MM"`
  (`"24:00"` ends a day), end after start, no overlap; at least one open interval in the week. `null`: open all
  day every day.
- `exceptions`: dated days (holidays, special days): no interval, closed all day; intervals, those instead of the
  weekday's. One entry per date.
- `greeting`: the text sent when a session is assigned, in Chinese and English; `null`: the default.
Nothing configured (the initial state): always open, default greeting.
"""

from __future__ import annotations

from datetime import date, datetime
from itertools import pairwise
from typing import Annotated, Any, Self

from contracts.fields import Inbound
from contracts.payloads.system_text import GREETING_MAX, GreetingParams
from contracts.time import BeijingDatetime
from pydantic import AfterValidator, BaseModel, Field, Strict, model_validator

from chat_svc.working_time import ALWAYS_OPEN, MINUTES_PER_DAY, Interval, Schedule, WorkingTime

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_GREETING = GreetingParams(text_zh_cn="您好，有什么可以帮助您的？", text_en="Hello, how can I help you?")
HHMM = r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"
MAX_INTERVALS_PER_DAY = 12
MAX_EXCEPTIONS = 400


def minutes(hhmm: str) -> int:
    hours, mins = hhmm.split(":")
    return int(hours) * 60 + int(mins)


def hhmm(value: int) -> str:
    return f"{value // 60:02d}:{value % 60:02d}"


class OpenInterval(Inbound):
    start: Annotated[str, Strict(), Field(pattern=HHMM, examples=["09:00"])]
    end: Annotated[str, Strict(), Field(pattern=HHMM, examples=["18:00"], description='"24:00": the day\'s end')]

    @model_validator(mode="after")
    def _end_after_start(self) -> Self:
        if minutes(self.end) <= minutes(self.start):
            raise ValueError(f"end {self.end} must be after start {self.start}")
        return self

    def interval(self) -> Interval:
        return Interval(minutes(self.start), minutes(self.end))


def _no_overlap(intervals: list[OpenInterval]) -> list[OpenInterval]:
    ordered = sorted(intervals, key=lambda i: minutes(i.start))
    for before, after in pairwise(ordered):
        if minutes(after.start) < minutes(before.end):
            raise ValueError(f"intervals {before.start}-{before.end} and {after.start}-{after.end} overlap")
    return ordered


DayIntervals = Annotated[list[OpenInterval], Field(max_length=MAX_INTERVALS_PER_DAY), AfterValidator(_no_overlap)]


class WeeklySchedule(Inbound):
    mon: DayIntervals = Field(default_factory=list)
    tue: DayIntervals = Field(default_factory=list)
    wed: DayIntervals = Field(default_factory=list)
    thu: DayIntervals = Field(default_factory=list)
    fri: DayIntervals = Field(default_factory=list)
    sat: DayIntervals = Field(default_factory=list)
    sun: DayIntervals = Field(default_factory=list)

    @model_validator(mode="after")
    def _some_open_time(self) -> Self:
        if not any(getattr(self, day) for day in DAYS):
            raise ValueError("no open time in the whole week (null: always open)")
        return self

    def days(self) -> tuple[tuple[Interval, ...], ...]:
        return tuple(tuple(i.interval() for i in getattr(self, day)) for day in DAYS)


class DateException(Inbound):
    date: date
    intervals: DayIntervals = Field(default_factory=list, description="None: closed all day (a holiday)")
    note: Annotated[str, Strict(), Field(max_length=100)] | None = None


def _one_per_date(exceptions: list[DateException]) -> list[DateException]:
    seen: set[date] = set()
    for exception in exceptions:
        if exception.date in seen:
            raise ValueError(f"date {exception.date} given twice")
        seen.add(exception.date)
    return sorted(exceptions, key=lambda e: e.date)


GreetingText = Annotated[str, Strict(), Field(min_length=1, max_length=GREETING_MAX)]


class Greeting(Inbound):
    zh_cn: GreetingText
    en: GreetingText

    def params(self) -> GreetingParams:
        return GreetingParams(text_zh_cn=self.zh_cn, text_en=self.en)


class WorkingHoursBody(Inbound):
    weekly: WeeklySchedule | None = Field(description="null: open all day every day")
    exceptions: Annotated[list[DateException], Field(max_length=MAX_EXCEPTIONS), AfterValidator(_one_per_date)] = (
        Field(default_factory=list))
    greeting: Greeting | None = Field(default=None, description="null: the default greeting")


class WorkingHoursData(BaseModel):
    weekly: WeeklySchedule | None
    exceptions: list[DateException]
    greeting: Greeting = Field(description="The greeting in force (the default when none was set)")
    greeting_is_default: bool
    open_now: bool
    next_open_at: BeijingDatetime = Field(description="Now when open, else the next opening (Beijing time)")
    updated_by: int | None
    updated_at: BeijingDatetime | None


def working_time(body: WorkingHoursBody) -> WorkingTime:
    """The schedule the configuration describes: `ALWAYS_OPEN` with no weekly schedule and no exception."""
    if body.weekly is None and not body.exceptions:
        return ALWAYS_OPEN
    weekly = body.weekly.days() if body.weekly is not None else ((Interval(0, MINUTES_PER_DAY),),) * 7
    exceptions = {e.date: tuple(i.interval() for i in e.intervals) for e in body.exceptions}
    return Schedule(weekly=weekly, exceptions=exceptions)


def next_open(schedule: WorkingTime, at: datetime) -> datetime:
    """`at` when open, else the next opening (`Schedule.next_open`)."""
    if isinstance(schedule, Schedule):
        return schedule.next_open(at)
    return at


def data(body: WorkingHoursBody, now: datetime, *, updated_by: int | None,
         updated_at: datetime | None) -> WorkingHoursData:
    schedule = working_time(body)
    greeting = body.greeting or Greeting(zh_cn=DEFAULT_GREETING.text_zh_cn, en=DEFAULT_GREETING.text_en)
    return WorkingHoursData(weekly=body.weekly, exceptions=body.exceptions, greeting=greeting,
                            greeting_is_default=body.greeting is None, open_now=schedule.is_open(now),
                            next_open_at=next_open(schedule, now), updated_by=updated_by, updated_at=updated_at)


def stored(body: WorkingHoursBody) -> dict[str, Any]:
    """The columns of `chat.working_hours` for a configuration."""
    dumped = body.model_dump(mode="json")
    return {"weekly": dumped["weekly"], "exceptions": dumped["exceptions"], "greeting": dumped["greeting"]}
