"""Issue 17, nobody online or outside working hours: supervisors set the working hours and the greeting; a user
whose new session nobody can take is told at once (a system message with a code) and their message waits, the
admins named by `chat.message_left` hear about it, the session is assigned to the first agent online with the
greeting; and a left message is not closed as abandoned while nobody serves."""

from __future__ import annotations

from datetime import timedelta

import pytest
from contracts.events.registry import CHAT_MESSAGE_LEFT
from contracts.payloads.system_text import render
from contracts.time import now_beijing
from sqlalchemy import text

from .conftest import BASE, admin_headers, new_id, supervisor_headers

pytestmark = pytest.mark.integration
HOURS = f"{BASE}/working-hours"
WEEKDAYS_9_TO_6 = {day: [{"start": "09:00", "end": "18:00"}] for day in ("mon", "tue", "wed", "thu", "fri")}
GREETING = {"zh_cn": "欢迎光临，请问有什么需要？", "en": "Welcome! What do you need?"}


async def messages(stack, session_id: int) -> list[tuple[str, dict | None]]:
    async with stack.app.state.engine.connect() as conn:
        rows = await conn.execute(text("SELECT system_code, system_params FROM chat.messages WHERE session_id = :s "
                                       "AND sender_type = 'system' ORDER BY id"), {"s": session_id})
        return [(r.system_code, r.system_params) for r in rows]


def closed_today() -> dict:
    """Open every day 09:00-18:00, but today (Beijing) is a holiday: closed now, open tomorrow at 09:00."""
    every_day = {day: [{"start": "09:00", "end": "18:00"}] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    return {"weekly": every_day, "exceptions": [{"date": now_beijing().date().isoformat(), "note": "holiday"}]}


async def test_nothing_configured_is_always_open_with_the_default_greeting(make_stack):
    stack = await make_stack()
    response = await stack.client.get(HOURS, headers=admin_headers(new_id()))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["weekly"], body["exceptions"], body["open_now"], body["greeting_is_default"]) == (None, [], True, True)
    assert body["greeting"] == {"zh_cn": "您好，有什么可以帮助您的？", "en": "Hello, how can I help you?"}


async def test_a_supervisor_sets_the_working_hours_and_any_admin_reads_them(make_stack):
    stack = await make_stack()
    supervisor = new_id()
    config = {"weekly": WEEKDAYS_9_TO_6, "exceptions": [{"date": "2026-12-25", "intervals": [], "note": "圣诞"}],
              "greeting": GREETING}
    response = await stack.client.put(HOURS, json=config, headers=supervisor_headers(supervisor))
    assert response.status_code == 200, response.text
    read = (await stack.client.get(HOURS, headers=admin_headers(new_id()))).json()
    assert read["weekly"]["mon"] == [{"start": "09:00", "end": "18:00"}] and read["weekly"]["sat"] == []
    assert read["exceptions"] == [{"date": "2026-12-25", "intervals": [], "note": "圣诞"}]
    assert (read["greeting"], read["greeting_is_default"], read["updated_by"]) == (GREETING, False, supervisor)


async def test_only_supervisors_set_the_working_hours(make_stack):
    stack = await make_stack()
    response = await stack.client.put(HOURS, json={"weekly": WEEKDAYS_9_TO_6}, headers=admin_headers(new_id()))
    assert (response.status_code, response.json()["error"]["code"]) == (403, "supervisors_only")
    assert (await stack.client.get(HOURS, headers=admin_headers(new_id()))).json()["weekly"] is None


@pytest.mark.parametrize(("config", "field"), [
    ({"weekly": {"mon": [{"start": "09:00", "end": "12:00"}, {"start": "11:00", "end": "13:00"}]}}, "weekly.mon"),
    ({"weekly": {"tue": [{"start": "18:00", "end": "09:00"}]}}, "weekly.tue.0"),
    ({"weekly": {"wed": [{"start": "9:00", "end": "18:00"}]}}, "weekly.wed.0.start"),
    ({"weekly": {}}, "weekly"),
    ({"weekly": None, "exceptions": [{"date": "2026-12-25"}, {"date": "2026-12-25"}]}, "exceptions"),
])
async def test_invalid_working_hours_are_refused_with_the_field_at_fault(make_stack, config, field):
    stack = await make_stack()
    response = await stack.client.put(HOURS, json=config, headers=supervisor_headers(new_id()))
    assert response.status_code == 422, response.text
    assert field in response.text


async def test_outside_working_hours_a_new_session_is_told_at_once_with_the_next_opening(make_stack):
    stack = await make_stack()
    supervisor = new_id()
    await stack.client.get(f"{BASE}/agents/me", headers=supervisor_headers(supervisor))  # chat-svc sees the role
    assert (await stack.client.put(HOURS, json=closed_today(), headers=supervisor_headers(new_id()))).status_code == 200
    user = new_id()
    session = await stack.open_session(user, "are you there?")

    tomorrow = now_beijing().date() + timedelta(days=1)
    [(code, params)] = await messages(stack, session["session_id"])
    assert code == "outside_working_hours"
    assert params["next_open_at"] == f"{tomorrow.isoformat()}T09:00:00.000+08:00"
    assert "09:00:00.000+08:00" in render(code, params, "en")
    [left] = await stack.tap.wait(session["session_id"], CHAT_MESSAGE_LEFT)
    assert (left.reason, left.user_id, left.preview, left.next_open_at.date()) == (
        "outside_working_hours", user, "are you there?", tomorrow)
    assert supervisor in left.recipient_ids


async def test_no_agent_online_message_left_notifies_supervisors_and_is_assigned_on_first_agent_login(make_stack):
    stack = await make_stack()
    supervisor, agent, user = new_id(), new_id(), new_id()
    await stack.client.get(f"{BASE}/agents/me", headers=supervisor_headers(supervisor))
    await stack.client.get(f"{BASE}/agents/me", headers=admin_headers(agent))  # an agent: not told
    session_id = (await stack.open_session(user, "anyone?"))["session_id"]
    assert await messages(stack, session_id) == [("no_agent_online", {})]
    [left] = await stack.tap.wait(session_id, CHAT_MESSAGE_LEFT)
    assert (left.reason, left.recipient_ids, left.next_open_at) == ("no_agent_online", [supervisor], None)
    assert (await stack.session(session_id))["status"] == "waiting"

    await stack.connections("gw-1", agent, 1)
    row = await stack.session(session_id)
    assert (row["status"], row["admin_id"]) == ("active", agent)
    codes = [code for code, _ in await messages(stack, session_id)]
    assert codes == ["no_agent_online", "agent_joined", "greeting"]


async def test_with_all_agents_notified_a_left_message_is_a_broadcast(make_stack):
    stack = await make_stack(left_message_notify="all_agents")
    await stack.client.get(f"{BASE}/agents/me", headers=supervisor_headers(new_id()))
    session_id = (await stack.open_session(new_id()))["session_id"]
    [left] = await stack.tap.wait(session_id, CHAT_MESSAGE_LEFT)
    assert left.recipient_ids is None


async def test_with_no_supervisor_known_a_left_message_goes_to_every_admin(make_stack):
    stack = await make_stack()
    session_id = (await stack.open_session(new_id()))["session_id"]
    [left] = await stack.tap.wait(session_id, CHAT_MESSAGE_LEFT)
    assert left.recipient_ids is None


async def test_an_agent_online_with_room_takes_the_session_with_no_notice_even_outside_hours(make_stack):
    stack = await make_stack()
    await stack.client.put(HOURS, json=closed_today(), headers=supervisor_headers(new_id()))
    agent = new_id()
    await stack.connections("gw-1", agent, 1)
    session_id = (await stack.open_session(new_id()))["session_id"]
    assert [code for code, _ in await messages(stack, session_id)] == ["agent_joined", "greeting"]
    assert stack.tap.of(session_id, CHAT_MESSAGE_LEFT) == []


async def test_the_greeting_is_sent_on_assignment_in_every_language(make_stack):
    stack = await make_stack()
    await stack.client.put(HOURS, json={"weekly": None, "greeting": GREETING}, headers=supervisor_headers(new_id()))
    agent = new_id()
    await stack.connections("gw-1", agent, 1)
    session_id = (await stack.open_session(new_id()))["session_id"]
    [_, (code, params)] = await messages(stack, session_id)
    assert (code, params) == ("greeting", {"text_zh_cn": GREETING["zh_cn"], "text_en": GREETING["en"]})
    assert render(code, params, "zh-CN") == GREETING["zh_cn"]
    assert render(code, params, "en") == GREETING["en"]


async def test_a_left_message_is_not_closed_as_abandoned_while_nobody_serves(make_stack):
    """The sweep runs with a clock moved forward (no waiting): abandonment counts only once someone serves."""
    stack = await make_stack(admin_capacity=1, presence_sweep_seconds=600, abandon_waiting_after_seconds=60)
    chat = stack.app.state.chat
    start = now_beijing()
    left = (await stack.open_session(new_id()))["session_id"]
    for minutes in (2, 4, 8):  # nobody online: no time counts
        chat.clock = lambda m=minutes: start + timedelta(minutes=m)
        await chat.sweep()
    assert (await stack.session(left))["status"] == "waiting"

    agent = new_id()  # the first agent online takes it; the next session waits for that agent (capacity 1)
    chat.clock = lambda: start + timedelta(minutes=8)
    await stack.heartbeat("gw-1", {agent: 1}, ttl_seconds=3600, at=start + timedelta(minutes=8))
    assert (await stack.session(left))["admin_id"] == agent
    second = (await stack.open_session(new_id()))["session_id"]
    assert [code for code, _ in await messages(stack, second)] == []  # an agent is online: no notice, it queues

    chat.clock = lambda: start + timedelta(minutes=8, seconds=30)
    await chat.sweep()  # served from now on: its 60 s start now
    assert (await stack.session(second))["status"] == "waiting"
    chat.clock = lambda: start + timedelta(minutes=10)
    await chat.sweep()
    assert (await stack.session(second))["close_reason"] == "abandoned"
