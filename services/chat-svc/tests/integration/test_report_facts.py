"""Issue 19, the report at speed: the supervisors' report reads `chat.session_facts` (migration 0015), one narrow row
per session kept by triggers in the transaction of each change. These tests hold it to the report as it was computed
before, straight from `chat.sessions` and `chat.ratings` (REFERENCE below, the pre-0015 SQL), on a seeded day with
the awkward cases: sessions across Beijing midnight, transfers, a requeue, sessions never answered, edited ratings,
microsecond times; and they follow one session through the service to check that every step keeps its facts."""

import random
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from contracts.time import BEIJING_TZ
from sqlalchemy import text

from .conftest import BASE, admin_headers, new_id, supervisor_headers, user_headers

pytestmark = pytest.mark.integration
DAY0 = datetime(2022, 7, 1, tzinfo=BEIJING_TZ)
A, B, C = 7_100_001, 7_100_002, 7_100_003

REFERENCE_FIGURES = """
WITH picked AS (
    SELECT s.admin_id, s.assigned_at, s.message_count,
           s.created_at >= :start AND s.created_at < :end AS opened,
           s.assigned_at IS NOT NULL AND s.assigned_at >= :start AND s.assigned_at < :end AS was_assigned,
           s.closed_at IS NOT NULL AND s.closed_at >= :start AND s.closed_at < :end AS was_closed,
           extract(epoch FROM s.first_reply_at - s.created_at)::float8 AS first_response,
           extract(epoch FROM s.closed_at - s.created_at)::float8 AS resolution,
           r.score
    FROM chat.sessions s
    LEFT JOIN chat.ratings r ON r.session_id = s.id
    WHERE (s.created_at >= :start AND s.created_at < :end)
       OR (s.assigned_at >= :start AND s.assigned_at < :end)
       OR (s.closed_at >= :start AND s.closed_at < :end)
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
"""

REFERENCE_DAYS = """
SELECT day, sum(opened)::bigint AS opened, sum(closed)::bigint AS closed FROM (
    SELECT (created_at AT TIME ZONE 'Asia/Shanghai')::date AS day, 1 AS opened, 0 AS closed
    FROM chat.sessions WHERE created_at >= :start AND created_at < :end
    UNION ALL
    SELECT (closed_at AT TIME ZONE 'Asia/Shanghai')::date, 0, 1
    FROM chat.sessions WHERE closed_at >= :start AND closed_at < :end
) e GROUP BY day
"""

FIGURES = ["opened", "assigned", "closed", "first_response_p50_seconds", "first_response_p90_seconds",
           "resolution_p50_seconds", "resolution_p90_seconds", "messages_per_session", "satisfaction_average",
           "satisfaction_count", "answered_within_deadline"]


def _round(value: Any) -> float | None:
    return None if value is None else round(float(value), 3)


async def reference_report(stack, first: date, last: date, deadline: float) -> dict[str, Any]:
    """The report as chat-svc computed it before 0015, in the shape of the JSON answer."""
    start = datetime(first.year, first.month, first.day, tzinfo=BEIJING_TZ)
    end = datetime(last.year, last.month, last.day, tzinfo=BEIJING_TZ) + timedelta(days=1)
    params = {"start": start, "end": end, "deadline": deadline}
    async with stack.app.state.engine.connect() as conn:
        rows = (await conn.execute(text(REFERENCE_FIGURES), params)).mappings().all()
        day_rows = (await conn.execute(text(REFERENCE_DAYS), params)).mappings().all()

    def figures(r: Any) -> dict[str, Any]:
        return {
            "opened": r["opened"], "assigned": r["assigned"], "closed": r["closed"],
            "first_response_p50_seconds": _round(r["first_response_p50"]),
            "first_response_p90_seconds": _round(r["first_response_p90"]),
            "resolution_p50_seconds": _round(r["resolution_p50"]), "resolution_p90_seconds": _round(r["resolution_p90"]),
            "messages_per_session": _round(r["messages_per_session"]),
            "satisfaction_average": _round(r["satisfaction_average"]), "satisfaction_count": r["satisfaction_count"],
            "answered_within_deadline": _round(r["answered_in_time"] / r["answerable"]) if r["answerable"] else None,
        }

    total = next((figures(r) for r in rows if r["is_total"]), None)
    agents = sorted(({"admin_id": r["admin_id"], **figures(r)} for r in rows
                     if not r["is_total"] and r["admin_id"] is not None), key=lambda a: a["admin_id"])
    counted = {r["day"]: (r["opened"], r["closed"]) for r in day_rows}
    days = [{"date": d.isoformat(), "opened": counted.get(d, (0, 0))[0], "closed": counted.get(d, (0, 0))[1]}
            for d in (first + timedelta(days=i) for i in range((last - first).days + 1))]
    return {"total": total, "agents": agents, "days": days}


class Seeder:
    """Writes sessions the way chat_svc.store does, statement by statement (an insert, then updates for each
    assignment, message, transfer, requeue and closing; a rating inserted, then edited), at chosen times."""

    def __init__(self, stack) -> None:
        self.stack = stack

    async def run(self, sql: str, **params: Any) -> Any:
        async with self.stack.app.state.engine.begin() as conn:
            result = await conn.execute(text(sql), params)
            return result.scalar() if result.returns_rows else None

    async def open(self, at: datetime) -> int:
        session_id = await self.run(
            "INSERT INTO chat.sessions (user_id, status, priority, created_at, updated_at) "
            "VALUES (:u, 'waiting', 3, :at, :at) RETURNING id", u=new_id(), at=at)
        await self.message(session_id, "user", at)
        return session_id

    async def assign(self, session_id: int, admin_id: int, at: datetime) -> None:
        await self.run("UPDATE chat.sessions SET status = 'active', admin_id = :a, assigned_at = :at, "
                       "updated_at = :at WHERE id = :s", s=session_id, a=admin_id, at=at)

    async def message(self, session_id: int, sender: str, at: datetime) -> None:
        await self.run("INSERT INTO chat.messages (session_id, sender_type, sender_id, content, message_type, "
                       "created_at) VALUES (:s, :t, 1, 'x', 'text', :at)", s=session_id, t=sender, at=at)
        await self.run("UPDATE chat.sessions SET message_count = message_count + 1, last_message = 'x', "
                       "updated_at = :at, first_reply_at = CASE WHEN :t = 'admin' THEN coalesce(first_reply_at, :at) "
                       "ELSE first_reply_at END WHERE id = :s", s=session_id, t=sender, at=at)

    async def requeue(self, session_id: int, at: datetime) -> None:
        await self.run("UPDATE chat.sessions SET status = 'waiting', admin_id = NULL, assigned_at = NULL, "
                       "updated_at = :at WHERE id = :s", s=session_id, at=at)

    async def close(self, session_id: int, at: datetime, reason: str = "agent") -> None:
        await self.run("UPDATE chat.sessions SET status = 'closed', close_reason = :r, closed_at = :at, "
                       "updated_at = :at WHERE id = :s", s=session_id, r=reason, at=at)

    async def rate(self, session_id: int, *scores: int) -> None:
        await self.run("INSERT INTO chat.ratings (session_id, user_id, score) VALUES (:s, 1, :sc)",
                       s=session_id, sc=scores[0])
        for score in scores[1:]:  # the user's edits
            await self.run("UPDATE chat.ratings SET score = :sc, updated_at = now() WHERE session_id = :s",
                           s=session_id, sc=score)


def at(day: int, hours: float, micros: int = 0) -> datetime:
    return DAY0 + timedelta(days=day, hours=hours, microseconds=micros)


async def seed_awkward_days(seed: Seeder) -> dict[str, int]:
    named = {}
    # Across Beijing midnight: opened at 23:50 on day 1, answered, closed at 00:20 on day 2, rated 4 then 2.
    s = named["midnight"] = await seed.open(at(1, 23 + 50 / 60))
    await seed.assign(s, A, at(1, 23 + 50 / 60, 30_000_123))
    await seed.message(s, "admin", at(1, 23 + 51 / 60, 10_250_001))
    await seed.close(s, at(2, 20 / 60, 5))
    await seed.rate(s, 4, 2)
    # Transferred from A (who answered) to B, who closes it: B's session, answered when A answered.
    s = named["transfer"] = await seed.open(at(1, 10))
    await seed.assign(s, A, at(1, 10, 10_000_000))
    await seed.message(s, "admin", at(1, 10, 50_000_007))
    await seed.assign(s, B, at(1, 10 + 5 / 60))
    await seed.message(s, "admin", at(1, 10 + 6 / 60))
    await seed.message(s, "user", at(1, 10 + 7 / 60))
    await seed.close(s, at(1, 10.5))
    await seed.rate(s, 5)
    # Assigned, never answered, closed for inactivity: a miss for the deadline share.
    s = named["unanswered"] = await seed.open(at(1, 11))
    await seed.assign(s, B, at(1, 11, 5_000_000))
    await seed.close(s, at(1, 11 + 40 / 60), "inactive")
    # Never assigned, abandoned while waiting.
    s = named["abandoned"] = await seed.open(at(1, 12))
    await seed.close(s, at(1, 12 + 10 / 60), "abandoned")
    # Answered by A, requeued, taken by C, closed the next morning.
    s = named["requeued"] = await seed.open(at(1, 13))
    await seed.assign(s, A, at(1, 13, 5_000_000))
    await seed.message(s, "admin", at(1, 13, 20_000_000))
    await seed.requeue(s, at(1, 13 + 10 / 60))
    await seed.assign(s, C, at(1, 13 + 15 / 60))
    await seed.close(s, at(2, 9))
    await seed.rate(s, 3, 5, 1)
    # Opened at the very first instant of day 2, still open; and one in the last microsecond of day 1.
    named["day2_first_instant"] = await seed.open(at(2, 0))
    s = named["day1_last_instant"] = await seed.open(at(1, 24, -1))
    await seed.assign(s, C, at(2, 0, 1))
    # Opened on day 0, closed on day 1: in day 1's closed sessions only.
    s = named["from_day0"] = await seed.open(at(0, 22))
    await seed.assign(s, A, at(0, 22, 1_000_000))
    await seed.message(s, "admin", at(0, 22, 59_999_999))
    await seed.close(s, at(1, 1))
    await seed.rate(s, 1)
    # And a crowd with microsecond times over days 1 and 2, so the percentiles interpolate between odd values.
    rng = random.Random(19)
    for _ in range(30):
        opened = at(rng.randint(1, 2), rng.uniform(0, 23), rng.randint(0, 999_999))
        s = await seed.open(opened)
        if rng.random() < 0.9:
            await seed.assign(s, rng.choice((A, B, C)), opened + timedelta(microseconds=rng.randint(1, 90_000_000)))
            if rng.random() < 0.85:
                await seed.message(s, "admin", opened + timedelta(microseconds=rng.randint(1, 200_000_000)))
            await seed.message(s, "user", opened + timedelta(seconds=rng.randint(200, 400)))
        if rng.random() < 0.8:
            await seed.close(s, opened + timedelta(microseconds=rng.randint(10**8, 3 * 10**10)))
            if rng.random() < 0.5:
                await seed.rate(s, *(rng.randint(1, 5) for _ in range(rng.randint(1, 3))))
    return named


async def test_the_report_read_from_the_facts_equals_the_report_computed_from_sessions_and_ratings(make_stack):
    stack = await make_stack()
    await seed_awkward_days(Seeder(stack))
    headers = supervisor_headers(new_id())
    deadline = stack.app.state.settings.report_first_reply_deadline_seconds

    for first, last in ((1, 1), (2, 2), (0, 2), (1, 2), (0, 0), (3, 3)):
        first_date, last_date = (DAY0 + timedelta(days=first)).date(), (DAY0 + timedelta(days=last)).date()
        response = await stack.client.get(f"{BASE}/reports/summary", headers=headers,
                                          params={"from": first_date.isoformat(), "to": last_date.isoformat()})
        assert response.status_code == 200, response.text
        report = response.json()
        expected = await reference_report(stack, first_date, last_date, deadline)

        assert {k: report[k] for k in ("agents", "days")} == {k: expected[k] for k in ("agents", "days")}, (first, last)
        if expected["total"] is not None:
            assert report["total"] == expected["total"], (first, last)
        else:  # no session at all in the range
            assert report["total"]["opened"] == report["total"]["closed"] == 0

    day1 = (await stack.client.get(f"{BASE}/reports/summary", headers=headers,
                                   params={"from": "2022-07-02", "to": "2022-07-02"})).json()
    day2 = (await stack.client.get(f"{BASE}/reports/summary", headers=headers,
                                   params={"from": "2022-07-03", "to": "2022-07-03"})).json()
    # By hand, the seeded cases without the crowd: the midnight session opens on day 1 and closes on day 2.
    assert day1["days"][0]["opened"] >= 6 and day2["days"][0]["closed"] >= 2
    agents = {a["admin_id"] for a in day1["agents"]}
    assert {A, B, C} <= agents


async def test_the_facts_follow_a_session_through_the_service_from_opening_to_an_edited_rating(make_stack):
    stack = await make_stack()
    user, a, b = new_id(), new_id(), new_id()
    await stack.connections("gw-facts", a, 1)
    await stack.connections("gw-facts", b, 1)

    async def facts_and_truth(session_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
        async with stack.app.state.engine.connect() as conn:
            facts = (await conn.execute(text(
                "SELECT admin_id, opened_at, assigned_at, closed_at, first_response_seconds, resolution_seconds, "
                "message_count, score FROM chat.session_facts WHERE session_id = :s"), {"s": session_id})).one()
            truth = (await conn.execute(text(
                "SELECT s.admin_id, s.created_at AS opened_at, s.assigned_at, s.closed_at, "
                "extract(epoch FROM s.first_reply_at - s.created_at)::float8 AS first_response_seconds, "
                "extract(epoch FROM s.closed_at - s.created_at)::float8 AS resolution_seconds, s.message_count, "
                "r.score FROM chat.sessions s LEFT JOIN chat.ratings r ON r.session_id = s.id WHERE s.id = :s"),
                {"s": session_id})).one()
        return dict(facts._mapping), dict(truth._mapping)

    session_id = (await stack.open_session(user, "你好"))["session_id"]
    facts, truth = await facts_and_truth(session_id)
    assert facts == truth and facts["message_count"] == 1
    holder = (await stack.session(session_id))["admin_id"]
    other = b if holder == a else a

    steps = [
        ("reply", lambda: stack.client.post(f"{BASE}/sessions/{session_id}/messages", json={"content": "您好"},
                                            headers=admin_headers(holder))),
        ("transfer", lambda: stack.client.post(f"{BASE}/sessions/{session_id}/transfer", json={"admin_id": other},
                                               headers=admin_headers(holder))),
        ("user", lambda: stack.client.post(f"{BASE}/sessions/{session_id}/messages", json={"content": "在吗"},
                                           headers=user_headers(user))),
        ("close", lambda: stack.client.post(f"{BASE}/sessions/{session_id}/close", headers=admin_headers(other))),
        ("rate", lambda: stack.client.put(f"{BASE}/my/sessions/{session_id}/rating", json={"score": 2},
                                          headers=user_headers(user))),
        ("edit", lambda: stack.client.put(f"{BASE}/my/sessions/{session_id}/rating", json={"score": 5},
                                          headers=user_headers(user))),
    ]
    for name, step in steps:
        response = await step()
        assert response.status_code in (200, 201), (name, response.text)
        facts, truth = await facts_and_truth(session_id)
        assert facts == truth, name

    assert (facts["admin_id"], facts["message_count"], facts["score"]) == (other, 3, 5)
    assert facts["first_response_seconds"] is not None and facts["resolution_seconds"] is not None
