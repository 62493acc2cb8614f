"""When customer service is open: the interface the reply deadlines (chat_svc.reply_deadlines) count time with.

The schedule itself (a weekly timetable in Beijing time plus dated exceptions, set by a supervisor) lives in
chat_svc.working_hours; `ALWAYS_OPEN` is the default until it is wired in.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol


class WorkingTime(Protocol):
    def is_open(self, at: datetime) -> bool: ...

    def add(self, start: datetime, seconds: float) -> datetime:
        """`start` + `seconds` of open time (closed periods do not count)."""
        ...


class AlwaysOpen:
    def is_open(self, at: datetime) -> bool:
        return True

    def add(self, start: datetime, seconds: float) -> datetime:
        return start + timedelta(seconds=seconds)


ALWAYS_OPEN: WorkingTime = AlwaysOpen()
