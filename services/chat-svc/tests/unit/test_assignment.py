"""Assignment rules: fewest active sessions under capacity, ties to the longest idle, queue by priority then age."""

from datetime import UTC, datetime, timedelta

from chat_svc.domain import AdminLoad, WaitingSession, choose_admin, plan_assignments, queue_order

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def waiting(session_id: int, priority: int, age_minutes: int) -> WaitingSession:
    return WaitingSession(session_id, priority, T0 - timedelta(minutes=age_minutes))


def test_the_admin_with_fewest_active_sessions_gets_it():
    admins = [AdminLoad(1, active=3, capacity=5), AdminLoad(2, active=1, capacity=5), AdminLoad(3, active=2, capacity=5)]
    assert choose_admin(admins).admin_id == 2


def test_a_tie_goes_to_the_admin_idle_longest_and_never_assigned_counts_as_idlest():
    admins = [
        AdminLoad(1, active=1, capacity=5, last_assigned_at=T0),
        AdminLoad(2, active=1, capacity=5, last_assigned_at=T0 - timedelta(hours=1)),
    ]
    assert choose_admin(admins).admin_id == 2
    assert choose_admin([*admins, AdminLoad(3, active=1, capacity=5)]).admin_id == 3


def test_admins_at_capacity_get_nothing():
    assert choose_admin([AdminLoad(1, active=2, capacity=2), AdminLoad(2, active=5, capacity=5)]) is None
    assert choose_admin([]) is None


def test_the_queue_is_priority_first_then_oldest():
    order = queue_order([waiting(1, 3, 10), waiting(2, 5, 1), waiting(3, 3, 20), waiting(4, 1, 99)])
    assert [w.session_id for w in order] == [2, 3, 1, 4]


def test_two_admins_with_capacity_two_take_four_of_five_and_the_lowest_priority_waits():
    queue = [waiting(1, 2, 5), waiting(2, 5, 4), waiting(3, 1, 3), waiting(4, 4, 2), waiting(5, 3, 1)]
    admins = [AdminLoad(10, 0, 2), AdminLoad(20, 0, 2)]
    plan = plan_assignments(queue, admins, T0)
    assert [(a.session_id, a.admin_id) for a in plan] == [(2, 10), (4, 20), (5, 10), (1, 20)]
    assert 3 not in {a.session_id for a in plan}


def test_a_plan_gives_each_assignment_its_own_instant_so_idle_order_holds():
    plan = plan_assignments([waiting(1, 3, 2), waiting(2, 3, 1)], [AdminLoad(1, 0, 5), AdminLoad(2, 0, 5)], T0)
    assert [a.admin_id for a in plan] == [1, 2]
    assert plan[0].assigned_at < plan[1].assigned_at


def test_a_plan_never_overfills_an_admin():
    queue = [waiting(i, 3, i) for i in range(1, 10)]
    plan = plan_assignments(queue, [AdminLoad(1, active=4, capacity=5), AdminLoad(2, active=0, capacity=1)], T0)
    assert sorted(a.admin_id for a in plan) == [1, 2]


def test_nothing_is_planned_without_admins_or_without_waiting_sessions():
    assert plan_assignments([waiting(1, 3, 1)], [], T0) == []
    assert plan_assignments([], [AdminLoad(1, 0, 5)], T0) == []
