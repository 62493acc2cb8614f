"""The supervisors' report: for a range of Beijing days, in total and per agent, what happened to the sessions,
computed by SQL over `chat.session_facts` (one aggregate query and one per-day query, each reading the facts by
the time indexes of migration 0015). The facts are one narrow row per session, copied by triggers from
`chat.sessions` and `chat.ratings` in the transaction of each change, with the first response and resolution
already in seconds (computed with the very expressions this module used to compute per row, so the numbers are
the same); a report never reads `chat.messages`, `chat.sessions` nor `chat.ratings`.

Definitions (per agent: by the session's agent, `sessions.admin_id`: the one who holds or last held it):
- opened: sessions created in the range; assigned: sessions whose (latest) assignment falls in it; closed: sessions
  closed in it.
- first response: of the sessions opened in the range, from the session's opening (the user's first message) to
  the first message of an agent; p50 and p90 over the sessions that got one.
- resolution: of the sessions closed in the range, from opening to closing; p50 and p90.
- messages per session: of the sessions closed in the range, the messages of users and agents (not system lines).
- satisfaction: the ratings of the sessions closed in the range: average score and count.
- answered within the deadline: of the sessions opened in the range that were assigned to an agent, the share whose
  first response came within CHAT_REPORT_FIRST_REPLY_DEADLINE_SECONDS (the first reply deadline); a session never
  answered counts as missed. Null when there is no such session.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from contracts.fields import Count, Id
from contracts.identity import Principal
from contracts.time import BEIJING_TZ
from pydantic import BaseModel, Field
from servicekit.db import AnyRow
from sqlalchemy import TextClause, text

from chat_svc.agents import check_is_supervisor
from chat_svc.domain import InvalidInput

if TYPE_CHECKING:
    from chat_svc.service import Chat


class ReportFigures(BaseModel):
    opened: Count = Field(description="Sessions opened in the range")
    assigned: Count = Field(description="Sessions assigned (latest assignment) in the range")
    closed: Count = Field(description="Sessions closed in the range")
    first_response_p50_seconds: float | None = Field(description="Median first response of the sessions opened")
    first_response_p90_seconds: float | None = Field(description="90th percentile of the same")
    resolution_p50_seconds: float | None = Field(description="Median time from opening to closing, sessions closed")
    resolution_p90_seconds: float | None = Field(description="90th percentile of the same")
    messages_per_session: float | None = Field(description="Users' and agents' messages per session closed")
    satisfaction_average: float | None = Field(description="Average rating (1-5) of the sessions closed")
    satisfaction_count: Count = Field(description="Ratings of the sessions closed")
    answered_within_deadline: float | None = Field(
        description="Share (0-1) of the sessions opened and assigned whose first response came within the deadline")


class AgentFigures(ReportFigures):
    admin_id: Id


class DayFigures(BaseModel):
    date: date
    opened: Count
    closed: Count


class ReportData(BaseModel):
    from_date: date = Field(description="First Beijing day of the range")
    to_date: date = Field(description="Last Beijing day of the range (included)")
    first_reply_deadline_seconds: float = Field(description="The threshold of `answered_within_deadline`")
    total: ReportFigures
    agents: list[AgentFigures] = Field(description="By admin id; agents with at least one session in the range")
    days: list[DayFigures] = Field(description="Every day of the range, in order")


@dataclass(frozen=True)
class ReportRules:
    first_reply_deadline_seconds: float
    max_days: int


_FIGURES = text("""
WITH picked AS (
    SELECT admin_id, assigned_at, message_count, score, first_response_seconds AS first_response,
           resolution_seconds AS resolution,
           opened_at >= :start AND opened_at < :end AS opened,
           assigned_at IS NOT NULL AND assigned_at >= :start AND assigned_at < :end AS was_assigned,
           closed_at IS NOT NULL AND closed_at >= :start AND closed_at < :end AS was_closed
    FROM chat.session_facts
    WHERE (opened_at >= :start AND opened_at < :end)
       OR (assigned_at >= :start AND assigned_at < :end)
       OR (closed_at >= :start AND closed_at < :end)
)
SELECT admin_id, GROUPING(admin_id) = 1 AS is_total,
       count(*) FILTER (WHERE opened) AS opened,
       count(*) FILTER (WHERE was_assigned) AS assigned,
       count(*) FILTER (WHERE was_closed) AS closed,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY first_response) FILTER (WHERE opened) AS first_response_p50,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY first_response) FILTER (WHERE opened) AS first_response_p90,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY resolution) FILTER (WHERE was_closed) AS resolution_p50,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY resolution) FILTER (WHERE was_closed) AS resolution_p90,
       avg(message_count) FILTER (WHERE was_closed) AS messages_per_session,
       avg(score) FILTER (WHERE was_closed) AS satisfaction_average,
       count(score) FILTER (WHERE was_closed) AS satisfaction_count,
       count(*) FILTER (WHERE opened AND assigned_at IS NOT NULL) AS answerable,
       count(*) FILTER (WHERE opened AND assigned_at IS NOT NULL AND first_response <= CAST(:deadline AS float8))
           AS answered_in_time
FROM picked
GROUP BY GROUPING SETS ((admin_id), ())
""")

# Days of the range by their offset from its start: Beijing keeps +08:00 all year (no daylight saving since 1991),
# so whole days since the start are Beijing dates, without a time zone conversion per row.
_DAYS = text("""
SELECT day, sum(opened)::bigint AS opened, sum(closed)::bigint AS closed FROM (
    SELECT date_part('day', opened_at - :start)::int AS day, 1 AS opened, 0 AS closed
    FROM chat.session_facts WHERE opened_at >= :start AND opened_at < :end
    UNION ALL
    SELECT date_part('day', closed_at - :start)::int, 0, 1
    FROM chat.session_facts WHERE closed_at >= :start AND closed_at < :end
) e GROUP BY day
""")


def beijing_bounds(from_date: date, to_date: date, max_days: int) -> tuple[datetime, datetime]:
    """[start of `from_date`, start of the day after `to_date`) in Beijing time; 422 for a reversed or too long
    range (CHAT_REPORT_MAX_DAYS)."""
    if to_date < from_date:
        raise InvalidInput("to", "must not be before `from`")
    days = (to_date - from_date).days + 1
    if days > max_days:
        raise InvalidInput("to", f"a report covers at most {max_days} days (this range has {days})")
    start = datetime.combine(from_date, time(), BEIJING_TZ)
    return start, start + timedelta(days=days)


def _float(value: Any) -> float | None:
    return None if value is None else round(float(value), 3)


def _figures(row: AnyRow) -> dict[str, Any]:
    r = row._mapping
    return {
        "opened": r["opened"], "assigned": r["assigned"], "closed": r["closed"],
        "first_response_p50_seconds": _float(r["first_response_p50"]),
        "first_response_p90_seconds": _float(r["first_response_p90"]),
        "resolution_p50_seconds": _float(r["resolution_p50"]), "resolution_p90_seconds": _float(r["resolution_p90"]),
        "messages_per_session": _float(r["messages_per_session"]),
        "satisfaction_average": _float(r["satisfaction_average"]), "satisfaction_count": r["satisfaction_count"],
        "answered_within_deadline": _float(r["answered_in_time"] / r["answerable"]) if r["answerable"] else None,
    }


_EMPTY = ReportFigures(opened=0, assigned=0, closed=0, first_response_p50_seconds=None,
                       first_response_p90_seconds=None, resolution_p50_seconds=None, resolution_p90_seconds=None,
                       messages_per_session=None, satisfaction_average=None, satisfaction_count=0,
                       answered_within_deadline=None)


class Reports:
    def __init__(self, chat: Chat, rules: ReportRules) -> None:
        self._chat = chat
        self._rules = rules

    async def summary(self, principal: Principal, from_date: date, to_date: date) -> ReportData:
        check_is_supervisor(principal, "read reports")
        start, end = beijing_bounds(from_date, to_date, self._rules.max_days)
        params = {"start": start, "end": end, "deadline": self._rules.first_reply_deadline_seconds}

        async def read(statement: TextClause) -> Sequence[AnyRow]:
            async with self._chat.transaction() as tx:
                # A read of index ranges and a sort: compiling it (JIT) costs more than it saves.
                await tx.db.execute(text("SET LOCAL jit = off"))
                return (await tx.db.execute(statement, params)).all()

        # The figures and the days on two connections at once: independent reads (each statement had its own
        # snapshot before too), so the report waits for the longer of the two, not their sum.
        async with asyncio.TaskGroup() as reads:
            figures = reads.create_task(read(_FIGURES))
            days_read = reads.create_task(read(_DAYS))
        rows, day_rows = figures.result(), days_read.result()
        total = _EMPTY
        agents = []
        for row in rows:
            if row.is_total:
                total = ReportFigures(**_figures(row))
            elif row.admin_id is not None:
                agents.append(AgentFigures(admin_id=row.admin_id, **_figures(row)))
        counted = {from_date + timedelta(days=r.day): (r.opened, r.closed) for r in day_rows}
        days = [DayFigures(date=day, opened=counted.get(day, (0, 0))[0], closed=counted.get(day, (0, 0))[1])
                for day in (from_date + timedelta(days=i) for i in range((to_date - from_date).days + 1))]
        return ReportData(from_date=from_date, to_date=to_date,
                          first_reply_deadline_seconds=self._rules.first_reply_deadline_seconds,
                          total=total, agents=sorted(agents, key=lambda a: a.admin_id), days=days)


CSV_COLUMNS = ["agent", *ReportFigures.model_fields]


def as_csv(report: ReportData) -> str:
    """One row for the total (`agent` = `total`), then one per agent (`agent` = the admin id); UTF-8 with a BOM
    so spreadsheet programs read Chinese and the numbers right; empty cells where a figure has no value."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for label, figures in [("total", report.total), *((str(a.admin_id), a) for a in report.agents)]:
        values = figures.model_dump(include=set(ReportFigures.model_fields))
        writer.writerow([label, *("" if values[k] is None else values[k] for k in ReportFigures.model_fields)])
    return out.getvalue()
