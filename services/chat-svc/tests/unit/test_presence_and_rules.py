"""Presence (sum of sockets over live gateways) and who may do what to a session."""

from datetime import UTC, datetime, timedelta

import pytest
from chat_svc.domain import (
    AdminLoad,
    Conflict,
    Forbidden,
    GatewayPresence,
    SessionClosed,
    SessionRef,
    check_can_claim,
    check_can_post,
    check_can_take,
    check_can_view,
    check_is_assigned_admin,
    online_admins,
)
from contracts.identity import Principal

NOW = datetime(2025, 1, 1, 12, tzinfo=UTC)
LIVE, DEAD = NOW + timedelta(seconds=30), NOW - timedelta(seconds=1)
USER = Principal(user_id=7, user_type="user", username="u7")
OTHER_USER = Principal(user_id=8, user_type="user", username="u8")
ADMIN = Principal(user_id=100, user_type="admin", username="a100")
OTHER_ADMIN = Principal(user_id=101, user_type="admin", username="a101")


def test_an_admin_is_online_while_any_live_gateway_has_a_socket_of_theirs():
    gateways = [GatewayPresence("gw1", LIVE, {1: 0, 2: 2}), GatewayPresence("gw2", LIVE, {1: 1})]
    assert online_admins(gateways, NOW) == {1, 2}


def test_closing_one_of_two_tabs_or_gateways_keeps_the_admin_online_and_closing_all_does_not():
    assert online_admins([GatewayPresence("gw1", LIVE, {1: 0}), GatewayPresence("gw2", LIVE, {1: 1})], NOW) == {1}
    assert online_admins([GatewayPresence("gw1", LIVE, {1: 0}), GatewayPresence("gw2", LIVE, {1: 0})], NOW) == set()


def test_a_gateway_past_its_heartbeat_ttl_counts_for_nothing():
    assert online_admins([GatewayPresence("gw1", DEAD, {1: 3}), GatewayPresence("gw2", LIVE, {2: 1})], NOW) == {2}


def active(admin_id=100, user_id=7, status="active"):
    return SessionRef(1, user_id, admin_id, status)


def test_users_see_only_their_own_sessions_and_admins_see_any():
    check_can_view(USER, active())
    check_can_view(OTHER_ADMIN, active())
    with pytest.raises(Forbidden):
        check_can_view(OTHER_USER, active())


def test_posting_is_for_the_sessions_user_and_its_assigned_admin_and_never_into_a_closed_session():
    check_can_post(USER, active())
    check_can_post(ADMIN, active())
    for outsider, session in [(OTHER_USER, active()), (OTHER_ADMIN, active()), (ADMIN, active(None, status="waiting"))]:
        with pytest.raises(Forbidden):
            check_can_post(outsider, session)
    with pytest.raises(SessionClosed):
        check_can_post(USER, active(status="closed"))


def test_only_the_assigned_admin_acts_on_a_session():
    check_is_assigned_admin(ADMIN, active())
    with pytest.raises(Forbidden):
        check_is_assigned_admin(OTHER_ADMIN, active())
    with pytest.raises(Forbidden):
        check_is_assigned_admin(USER, active())
    with pytest.raises(SessionClosed):
        check_is_assigned_admin(ADMIN, active(status="closed"))
    check_is_assigned_admin(ADMIN, active(status="closed"), open_only=False)


def test_only_waiting_sessions_can_be_claimed():
    check_can_claim(ADMIN, active(None, status="waiting"))
    with pytest.raises(Conflict) as taken:
        check_can_claim(OTHER_ADMIN, active())
    assert taken.value.code == "not_waiting"
    with pytest.raises(Forbidden):
        check_can_claim(USER, active(None, status="waiting"))


def test_a_transfer_target_must_be_online_and_have_room():
    with pytest.raises(Conflict) as offline:
        check_can_take(None, 5)
    assert offline.value.code == "admin_offline"
    with pytest.raises(Conflict) as full:
        check_can_take(AdminLoad(5, active=2, capacity=2), 5)
    assert full.value.code == "admin_at_capacity"
    assert check_can_take(AdminLoad(5, active=1, capacity=2), 5).admin_id == 5
