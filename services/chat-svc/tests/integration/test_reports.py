"""Issue 19, the supervisors' report: numbers by SQL over the sessions and ratings of a range of Beijing days, in
total and per agent. The sessions are written straight into the tables with chosen times (a range long past, so
the sessions other tests open now are outside it); one test checks that real messages keep the session's count
and first reply, which the others set as add_message would."""

from datetime import datetime, timedelta

import pytest
from contracts.time import BEIJING_TZ
from sqlalchemy import text

from .conftest import BASE, admin_headers, new_id, supervisor_headers

pytestmark = pytest.mark.integration
DAY = datetime(2021, 3, 10, tzinfo=BEIJING_TZ)


def at(hours: float) -> datetime:
    return DAY + timedelta(hours=hours)


async def add_session(stack, *, created: datetime, admin_id: int | None = None, assigned: datetime | None = None,
                      closed: datetime | None = None, messages: tuple[tuple[str, datetime], ...] = (),
                      score: int | None = None) -> int:
    status = "closed" if closed else "active" if admin_id else "waiting"
    async with stack.app.state.engine.begin() as conn:
        session_id = (await conn.execute(text(
            "INSERT INTO chat.sessions (user_id, admin_id, status, priority, created_at, updated_at, assigned_at, "
            "closed_at) VALUES (:u, :a, :st, 3, :c, :c, :asg, :cl) RETURNING id"),
            {"u": new_id(), "a": admin_id, "st": status, "c": created, "asg": assigned, "cl": closed})).scalar_one()
        for sender, when in messages:
            await conn.execute(text(
                "INSERT INTO chat.messages (session_id, sender_type, sender_id, content, message_type, created_at) "
                "VALUES (:s, :t, 1, 'x', :mt, :w)"), {"s": session_id, "t": sender, "w": when,
                                                     "mt": "system" if sender == "system" else "text"})
        # What chat_svc.store.add_message keeps with each message (these rows are written around it).
        await conn.execute(text(
            "UPDATE chat.sessions SET message_count = (SELECT count(*) FROM chat.messages WHERE session_id = :s "
            "AND sender_type <> 'system'), first_reply_at = (SELECT min(created_at) FROM chat.messages "
            "WHERE session_id = :s AND sender_type = 'admin') WHERE id = :s"), {"s": session_id})
        if score is not None:
            await conn.execute(text("INSERT INTO chat.ratings (session_id, user_id, score) VALUES (:s, 1, :sc)"),
                               {"s": session_id, "sc": score})
    return session_id


async def test_the_report_counts_times_messages_and_ratings_of_a_range_of_beijing_days_in_total_and_per_agent(stack):
    a, b = new_id(), new_id()
    sec = 1 / 3600
    # a: answered in 60 s (the deadline), closed after 30 min, rated 5; three messages and a system line.
    await add_session(stack, created=at(10), admin_id=a, assigned=at(10 + 30 * sec), closed=at(10.5), score=5,
                      messages=(("user", at(10)), ("system", at(10 + 30 * sec)), ("admin", at(10 + 60 * sec)),
                                ("user", at(10 + 120 * sec))))
    # b: answered in 180 s (late), closed after an hour, rated 2.
    await add_session(stack, created=at(11), admin_id=b, assigned=at(11 + 10 * sec), closed=at(12), score=2,
                      messages=(("user", at(11)), ("admin", at(11 + 180 * sec))))
    # waiting, never assigned: opened only; and one opened in the last second of the day.
    await add_session(stack, created=at(13), messages=(("user", at(13)),))
    await add_session(stack, created=at(24 - sec), messages=(("user", at(24 - sec)),))
    # a: opened the evening before (outside), closed in the range after two hours, rated 4.
    await add_session(stack, created=at(-1), admin_id=a, assigned=at(-1 + 10 * sec), closed=at(1), score=4,
                      messages=(("user", at(-1)), ("admin", at(-1 + 20 * sec))))
    # opened at midnight of the next day: outside.
    await add_session(stack, created=at(24), messages=(("user", at(24)),))

    response = await stack.client.get(f"{BASE}/reports/summary", params={"from": "2021-03-10", "to": "2021-03-10"},
                                      headers=supervisor_headers(new_id()))

    assert response.status_code == 200, response.text
    report = response.json()
    assert report["first_reply_deadline_seconds"] == 60
    assert report["total"] == {
        "opened": 4, "assigned": 2, "closed": 3,
        "first_response_p50_seconds": 120.0, "first_response_p90_seconds": 168.0,
        "resolution_p50_seconds": 3600.0, "resolution_p90_seconds": 6480.0,
        "messages_per_session": 2.333, "satisfaction_average": 3.667, "satisfaction_count": 3,
        "answered_within_deadline": 0.5,
    }
    agents = {row["admin_id"]: row for row in report["agents"]}
    assert set(agents) == {a, b}
    assert {k: agents[a][k] for k in ("opened", "closed", "first_response_p50_seconds", "resolution_p50_seconds",
                                      "messages_per_session", "satisfaction_average", "satisfaction_count",
                                      "answered_within_deadline")} == {
        "opened": 1, "closed": 2, "first_response_p50_seconds": 60.0, "resolution_p50_seconds": 4500.0,
        "messages_per_session": 2.5, "satisfaction_average": 4.5, "satisfaction_count": 2,
        "answered_within_deadline": 1.0}
    assert (agents[b]["satisfaction_average"], agents[b]["answered_within_deadline"]) == (2.0, 0.0)
    assert report["days"] == [{"date": "2021-03-10", "opened": 4, "closed": 3}]


async def test_the_report_as_csv_has_a_total_row_and_one_row_per_agent(stack):
    day = DAY + timedelta(days=3)
    a = new_id()
    await add_session(stack, created=day + timedelta(hours=9), admin_id=a, assigned=day + timedelta(hours=9),
                      closed=day + timedelta(hours=10), score=3, messages=(("user", day + timedelta(hours=9)),))

    response = await stack.client.get(f"{BASE}/reports/summary.csv", params={"from": "2021-03-13", "to": "2021-03-13"},
                                      headers=supervisor_headers(new_id()))

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    lines = response.text.lstrip("\ufeff").splitlines()
    assert lines[0].split(",")[:4] == ["agent", "opened", "assigned", "closed"]
    assert [line.split(",")[0] for line in lines[1:]] == ["total", str(a)]
    assert lines[2].split(",")[1:4] == ["1", "1", "1"]


async def test_only_supervisors_read_reports(stack):
    params = {"from": "2021-03-10", "to": "2021-03-10"}
    agent = await stack.client.get(f"{BASE}/reports/summary", params=params, headers=admin_headers(new_id()))
    csv = await stack.client.get(f"{BASE}/reports/summary.csv", params=params, headers=admin_headers(new_id()))
    assert (agent.status_code, agent.json()["error"]["code"]) == (403, "supervisors_only")
    assert csv.status_code == 403


@pytest.mark.parametrize("params", [{"from": "2021-03-10", "to": "2021-03-09"},
                                    {"from": "2021-01-01", "to": "2021-12-31"},
                                    {"from": "2021-13-01", "to": "2021-12-31"}])
async def test_a_reversed_too_long_or_malformed_range_is_a_422(stack, params):
    response = await stack.client.get(f"{BASE}/reports/summary", params=params, headers=supervisor_headers(new_id()))
    assert response.status_code == 422, response.text


async def test_each_message_keeps_the_sessions_message_count_and_first_agent_reply(make_stack):
    stack = await make_stack()
    admin, user = new_id(), new_id()
    await stack.heartbeat("gw-reports", {admin: 1})  # online: the new session is assigned to them
    session_id = (await stack.open_session(user, "你好"))["session_id"]
    replies = []
    for text_ in ("您好", "请稍等"):
        response = await stack.client.post(f"{BASE}/sessions/{session_id}/messages", json={"content": text_},
                                           headers=admin_headers(admin))
        assert response.status_code == 201, response.text
        replies.append(response.json())

    row = await stack.session(session_id)

    # the user's message and two replies; the assignment's system line is not counted
    assert row["message_count"] == 3
    first_reply = datetime.fromisoformat(replies[0]["created_at"])  # the wire keeps milliseconds
    assert abs(row["first_reply_at"] - first_reply) < timedelta(milliseconds=1)
