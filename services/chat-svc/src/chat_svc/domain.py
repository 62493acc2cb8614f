"""Rules of customer-service chat: who may do what to a session, who gets a waiting session, who is online.

No I/O: the use cases (chat_svc.service) load state, ask these functions, and write the answer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Literal

from contracts.identity import Principal
from contracts.payloads.system_text import (
    AgentJoinedParams,
    SessionAbandonedParams,
    SessionClosedByAgentParams,
    SessionClosedByUserParams,
    SessionInactiveParams,
    SessionTransferredParams,
    SystemTextParams,
)
from contracts.socketio.ack import SESSION_CLOSED
from servicekit.errors import Conflict, DomainError, Forbidden, Invalid, NotFound

__all__ = ["Conflict", "DomainError", "Forbidden", "Invalid", "InvalidInput", "NotFound", "SessionClosed"]

SessionStatus = Literal["waiting", "active", "closed"]
OPEN_STATUSES: tuple[SessionStatus, ...] = ("waiting", "active")
MAX_DB_ID = 2**63 - 1
"""Ids are PostgreSQL bigints: a larger id names nothing (404), it is not a server error."""
_NEVER = datetime(1970, 1, 1, tzinfo=UTC)


# --- errors ---------------------------------------------------------------------------------------------


class SessionClosed(Conflict):
    code = SESSION_CLOSED  # a socket ack keeps it (409s are precise): clients branch on it


class InvalidInput(Invalid):
    def __init__(self, field: str, message: str, *, where: str = "query") -> None:
        super().__init__(f"invalid request: {field}: {message}",
                         details=[{"field": field, "in": where, "message": message, "type": "value_error"}])


# --- authorization ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionRef:
    """What the rules need to know about a session."""

    session_id: int
    user_id: int
    admin_id: int | None
    status: SessionStatus


def check_can_view(principal: Principal, session: SessionRef) -> None:
    """Any admin may read any session (the `all` list shows them anyway); a user only their own."""
    if not principal.is_admin and session.user_id != principal.user_id:
        raise Forbidden("forbidden: not your session")


def check_can_post(principal: Principal, session: SessionRef) -> None:
    """The session's user, or the admin it is assigned to; never into a closed session."""
    if principal.is_admin:
        if session.admin_id != principal.user_id:
            raise Forbidden("forbidden: this session is not assigned to you")
    elif session.user_id != principal.user_id:
        raise Forbidden("forbidden: not your session")
    if session.status == "closed":
        raise SessionClosed(f"session {session.session_id} is closed")


def check_is_assigned_admin(principal: Principal, session: SessionRef, *, open_only: bool = True) -> None:
    """Read/transfer/close: only the admin the session is assigned to."""
    if not principal.is_admin:
        raise Forbidden("forbidden: admins only")
    if session.admin_id != principal.user_id:
        raise Forbidden("forbidden: this session is not assigned to you")
    if open_only and session.status == "closed":
        raise SessionClosed(f"session {session.session_id} is closed")


def check_can_end(principal: Principal, session: SessionRef) -> None:
    """An end user ends their own open session, waiting or active (admins: `close`)."""
    if principal.is_admin:
        raise Forbidden("forbidden: end users only (admins: POST /sessions/{id}/close)")
    if session.user_id != principal.user_id:
        raise Forbidden("forbidden: not your session")
    if session.status == "closed":
        raise SessionClosed(f"session {session.session_id} is closed")


def check_can_mark_read(principal: Principal, session: SessionRef) -> None:
    """The session's user, or the admin it is assigned to, records how far they have read."""
    if principal.is_admin:
        check_is_assigned_admin(principal, session, open_only=False)
    elif session.user_id != principal.user_id:
        raise Forbidden("forbidden: not your session")


def check_can_reprioritize(principal: Principal, session: SessionRef) -> None:
    """The queue order is the supervisors' call: any open session (assigned or waiting)."""
    if not principal.is_supervisor:
        raise Forbidden("forbidden: only supervisors change a session's priority", code="supervisors_only")
    if session.status == "closed":
        raise SessionClosed(f"session {session.session_id} is closed")


def check_can_claim(principal: Principal, session: SessionRef) -> None:
    if not principal.is_admin:
        raise Forbidden("forbidden: admins only")
    if session.status == "closed":
        raise SessionClosed(f"session {session.session_id} is closed")
    if session.status != "waiting":
        raise Conflict(f"session {session.session_id} is already assigned", code="not_waiting")


# --- assignment -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AdminLoad:
    """An online admin as assignment sees them."""

    admin_id: int
    active: int
    capacity: int
    last_assigned_at: datetime | None = None
    availability: Literal["online", "busy", "away"] = "online"
    """Only `online` admins get new sessions (chat_svc.agents.accepting, check_takes_new)."""

    @property
    def has_room(self) -> bool:
        return self.active < self.capacity


@dataclass(frozen=True)
class WaitingSession:
    session_id: int
    priority: int
    created_at: datetime


@dataclass(frozen=True)
class Assignment:
    session_id: int
    admin_id: int
    assigned_at: datetime


def queue_order(waiting: Iterable[WaitingSession]) -> list[WaitingSession]:
    """Highest priority first (5 before 1), then the oldest, then the lowest id."""
    return sorted(waiting, key=lambda w: (-w.priority, w.created_at, w.session_id))


def choose_admin(admins: Iterable[AdminLoad]) -> AdminLoad | None:
    """The admin with room and the fewest active sessions; ties go to the longest idle (oldest last
    assignment, never-assigned first), then the lowest id. None when every admin is full."""
    with_room = [a for a in admins if a.has_room]
    if not with_room:
        return None
    return min(with_room, key=lambda a: (a.active, a.last_assigned_at or _NEVER, a.admin_id))


def plan_assignments(
    waiting: Iterable[WaitingSession], admins: Iterable[AdminLoad], now: datetime
) -> list[Assignment]:
    """Give waiting sessions, in queue order, to admins with room until either runs out.

    Each assignment in the plan gets its own instant (now + n µs), so "longest idle" keeps its meaning inside
    one plan and across plans once the instants are stored."""
    loads = {a.admin_id: a for a in admins}
    plan: list[Assignment] = []
    for session in queue_order(waiting):
        admin = choose_admin(loads.values())
        if admin is None:
            break
        at = now + timedelta(microseconds=len(plan))
        plan.append(Assignment(session.session_id, admin.admin_id, at))
        loads[admin.admin_id] = replace(admin, active=admin.active + 1, last_assigned_at=at)
    return plan


def check_can_take(admin: AdminLoad | None, admin_id: int) -> AdminLoad:
    """A transfer target (or a claimer) must be online and have room; else 409 saying which."""
    if admin is None:
        raise Conflict(f"admin {admin_id} is not online", code="admin_offline")
    if not admin.has_room:
        raise Conflict(f"admin {admin_id} already has {admin.active} active sessions (capacity {admin.capacity})",
                       code="admin_at_capacity")
    return admin


# --- presence ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GatewayPresence:
    """One gateway's admin -> socket count, valid until `expires_at` (its last heartbeat + its ttl)."""

    gateway_id: str
    expires_at: datetime
    connections: Mapping[int, int]


def online_admins(gateways: Iterable[GatewayPresence], now: datetime) -> set[int]:
    """Admins with at least one socket on a gateway that is still alive. Two tabs on one gateway or one tab on
    each of two gateways both count; a gateway that stopped heartbeating counts for nothing."""
    totals: dict[int, int] = defaultdict(int)
    for gateway in gateways:
        if gateway.expires_at > now:
            for admin_id, count in gateway.connections.items():
                totals[admin_id] += count
    return {admin_id for admin_id, total in totals.items() if total > 0}


# --- system messages --------------------------------------------------------------------------------------
# The text of a system message is a code and its parameters (contracts.payloads.system_text); the use cases
# store both and a fallback rendering.


def assigned_text(admin_id: int) -> SystemTextParams:
    return AgentJoinedParams(agent_id=admin_id)


def transferred_text(from_admin: int, to_admin: int) -> SystemTextParams:
    return SessionTransferredParams(from_agent_id=from_admin, to_agent_id=to_admin)


def closed_text(admin_id: int) -> SystemTextParams:
    return SessionClosedByAgentParams(agent_id=admin_id)


def closed_by_user_text(user_id: int) -> SystemTextParams:
    return SessionClosedByUserParams(user_id=user_id)


CLOSED_BY_PLATFORM: dict[str, SystemTextParams] = {
    "abandoned": SessionAbandonedParams(), "inactive": SessionInactiveParams(),
}
"""The system message of a session the platform closed, by close reason."""
