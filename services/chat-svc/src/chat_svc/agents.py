"""Rules about customer-service agents: who may set an agent's availability and capacity, who takes new
sessions, when an idle agent becomes `away`, whose sessions go back to the queue. No I/O (chat_svc.agents_service
loads the state, asks these functions and writes the answer).

Availability is the agent's own setting: `online` (takes new sessions), `busy` (keeps its sessions, takes no
new ones), `away` (takes none). An agent with no socket open is `offline` whatever the setting (chat_svc.presence).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from contracts.identity import Principal
from contracts.payloads.agents import AgentAvailability, AgentData, AgentStatus, AvailabilityChangedBy
from servicekit.errors import Conflict, Forbidden, NotFound

from chat_svc.domain import AdminLoad

AwayPolicy = Literal["stay", "requeue"]


class SupervisorsOnly(Forbidden):
    code = "supervisors_only"


class UnknownAgent(NotFound):
    """chat-svc knows an admin once they have connected (or held a session): it cannot ask auth-svc."""

    code = "unknown_agent"


class AgentNotAvailable(Conflict):
    code = "agent_not_available"


@dataclass(frozen=True)
class AgentState:
    """One agent as stored in `chat.admins`, with their load and whether a socket is open now."""

    admin_id: int
    availability: AgentAvailability
    availability_changed_at: datetime | None
    changed_by: AvailabilityChangedBy | None
    capacity: int
    active: int
    online: bool
    last_active_at: datetime | None = None
    seen_online_at: datetime | None = None

    @property
    def status(self) -> AgentStatus:
        return self.availability if self.online else "offline"

    def data(self) -> AgentData:
        return AgentData(admin_id=self.admin_id, availability=self.availability, online=self.online,
                         status=self.status, active_sessions=self.active, capacity=self.capacity,
                         availability_changed_at=self.availability_changed_at, changed_by=self.changed_by)


# --- who may do what ----------------------------------------------------------------------------------------


def check_is_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise Forbidden("forbidden: admins only")


def check_is_supervisor(principal: Principal, what: str) -> None:
    if not principal.is_supervisor:
        raise SupervisorsOnly(f"forbidden: only supervisors {what}")


def availability_setter(principal: Principal, admin_id: int) -> AvailabilityChangedBy:
    """An agent sets their own availability; a supervisor anyone's. Returns who set it."""
    check_is_admin(principal)
    if admin_id == principal.user_id:
        return "self"
    check_is_supervisor(principal, "set another agent's availability")
    return "supervisor"


# --- assignment ---------------------------------------------------------------------------------------------


def accepting(loads: Iterable[AdminLoad]) -> list[AdminLoad]:
    """The admins that take new sessions: `online` availability (room is checked by the assignment itself)."""
    return [load for load in loads if load.availability == "online"]


def check_takes_new(load: AdminLoad) -> None:
    """A claimer or a transfer target must be `online` (409 `agent_not_available` when busy or away)."""
    if load.availability != "online":
        raise AgentNotAvailable(f"admin {load.admin_id} is {load.availability}: takes no new sessions")


# --- idle and away ------------------------------------------------------------------------------------------


def idle(agents: Iterable[AgentState], now: datetime, idle_seconds: int) -> list[int]:
    """Agents with a socket open, `online` or `busy`, and no activity for `idle_seconds` (0: never idle).
    An agent with no recorded activity is not idle: the sweep records their first sighting as activity."""
    if idle_seconds <= 0:
        return []
    limit = now - timedelta(seconds=idle_seconds)
    return [a.admin_id for a in agents
            if a.online and a.availability != "away" and a.last_active_at is not None and a.last_active_at <= limit]


def gone(agents: Iterable[AgentState], now: datetime, grace_seconds: int) -> list[int]:
    """Agents whose sessions waiting for a reply go back to the queue under the `requeue` policy: `away` for
    `grace_seconds`, or without a socket for `grace_seconds` (seen online last before that, or never)."""
    limit = now - timedelta(seconds=grace_seconds)
    found = []
    for a in agents:
        if a.online:
            away_since = a.availability_changed_at if a.availability == "away" else None
            if away_since is not None and away_since <= limit:
                found.append(a.admin_id)
        elif a.seen_online_at is None or a.seen_online_at <= limit:
            found.append(a.admin_id)
    return found
