"""chat_svc.agents without I/O: who takes new sessions, who is idle, whose sessions the requeue policy takes."""

from datetime import UTC, datetime, timedelta

import pytest
from chat_svc import agents
from chat_svc.agents import AgentNotAvailable, AgentState, SupervisorsOnly
from chat_svc.domain import AdminLoad, plan_assignments
from contracts.identity import Principal

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
AGENT = Principal(user_id=1, user_type="admin", username="a1", role="agent")
SUPERVISOR = Principal(user_id=2, user_type="admin", username="a2", role="supervisor")


def state(admin_id: int, availability: str = "online", *, online: bool = True, active_ago: int | None = 0,
          changed_ago: int | None = None, seen_ago: int | None = 0) -> AgentState:
    ago = lambda s: None if s is None else NOW - timedelta(seconds=s)
    return AgentState(admin_id, availability, ago(changed_ago), None, 5, 0, online,  # type: ignore[arg-type]
                      last_active_at=ago(active_ago), seen_online_at=ago(seen_ago))


def test_only_online_admins_are_offered_the_queue():
    from chat_svc.domain import WaitingSession

    loads = [AdminLoad(1, 0, 5, availability="busy"), AdminLoad(2, 3, 5), AdminLoad(3, 0, 5, availability="away")]
    plan = plan_assignments([WaitingSession(10, 3, NOW)], agents.accepting(loads), NOW)
    assert [a.admin_id for a in plan] == [2]


@pytest.mark.parametrize("availability", ["busy", "away"])
def test_a_busy_or_away_admin_takes_nothing_new(availability):
    with pytest.raises(AgentNotAvailable):
        agents.check_takes_new(AdminLoad(1, 0, 5, availability=availability))


def test_an_agent_sets_their_own_availability_a_supervisor_anyones():
    assert agents.availability_setter(AGENT, 1) == "self"
    assert agents.availability_setter(SUPERVISOR, 1) == "supervisor"
    with pytest.raises(SupervisorsOnly):
        agents.availability_setter(AGENT, 2)


def test_idle_means_a_socket_open_not_away_and_no_activity_for_the_whole_time():
    states = [state(1, active_ago=61), state(2, active_ago=59), state(3, "busy", active_ago=61),
              state(4, "away", active_ago=600), state(5, online=False, active_ago=600), state(6, active_ago=None)]
    assert agents.idle(states, NOW, 60) == [1, 3]
    assert agents.idle(states, NOW, 0) == []


def test_gone_is_away_or_without_a_socket_for_the_grace_period_and_busy_keeps_its_sessions():
    states = [state(1, "away", changed_ago=121), state(2, "away", changed_ago=100), state(3, "busy", changed_ago=999),
              state(4, online=False, seen_ago=121), state(5, online=False, seen_ago=100),
              state(6, online=False, seen_ago=None)]
    assert agents.gone(states, NOW, 120) == [1, 4, 6]


def test_status_is_offline_without_a_socket_whatever_the_setting():
    assert state(1, "busy", online=False).status == "offline"
    assert state(1, "busy").status == "busy"
