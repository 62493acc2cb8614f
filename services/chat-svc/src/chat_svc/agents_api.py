"""REST routes of customer-service agents under /api/v4/customer-service/agents (use cases:
chat_svc.agents_service; rules: chat_svc.agents).

- `GET /agents`: every known agent with availability, online, load and capacity (any admin: agents pick a
  transfer target from it; supervisors watch it live through `chat:agent_update`).
- `GET /agents/me`: the caller's own row.
- `PUT /agents/me/availability {availability}`: the agent sets their own (`online` | `busy` | `away`).
- `PUT /agents/{admin_id}/availability {availability}`: supervisors, anyone's (the agent themselves too).
- `PUT /agents/{admin_id}/capacity {capacity}`: supervisors; `null` goes back to CHAT_ADMIN_CAPACITY.
- `POST /agents/me/activity`: the console's activity ping (restarts the idle timer), 204.
"""

from __future__ import annotations

from typing import Annotated

from contracts.fields import Inbound
from contracts.payloads.agents import AgentAvailability, AgentData
from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field, Strict
from servicekit.http import CurrentAdmin
from servicekit.openapi import raises

from chat_svc.agents import SupervisorsOnly, UnknownAgent
from chat_svc.agents_service import Agents
from chat_svc.domain import MAX_DB_ID

router = APIRouter(prefix="/api/v4/customer-service/agents", tags=["agents"])


async def _agents(request: Request) -> Agents:
    return request.app.state.agents


AgentsDep = Annotated[Agents, Depends(_agents)]
AdminId = Annotated[int, Path(gt=0, le=MAX_DB_ID)]

_UNKNOWN = UnknownAgent("agent <id> not found: chat-svc knows an agent once they have connected")


class AgentList(BaseModel):
    items: list[AgentData] = Field(description="By admin id")


class AvailabilityBody(Inbound):
    availability: AgentAvailability = Field(
        description="online: takes new sessions; busy: keeps its sessions, takes no new ones; away: takes none")


class CapacityBody(Inbound):
    capacity: Annotated[int, Strict(), Field(ge=1, le=1000)] | None = Field(
        description="Active sessions this agent may hold at most; null: the service default (CHAT_ADMIN_CAPACITY)")


@router.get("", response_model=AgentList)
async def list_agents(principal: CurrentAdmin, agents: AgentsDep) -> AgentList:
    return AgentList(items=await agents.all(principal))


@router.get("/me", response_model=AgentData)
async def my_agent(principal: CurrentAdmin, agents: AgentsDep) -> AgentData:
    return await agents.get(principal, principal.user_id)


@router.put("/me/availability", response_model=AgentData)
async def set_my_availability(body: AvailabilityBody, principal: CurrentAdmin, agents: AgentsDep) -> AgentData:
    """`online` offers the waiting queue to the agent at once."""
    return await agents.set_availability(principal, principal.user_id, body.availability)


@router.post("/me/activity", status_code=204)
async def note_activity(principal: CurrentAdmin, agents: AgentsDep) -> None:
    """The console's activity ping: sent on the agent's own input, at most once a minute; restarts the idle
    timer (CHAT_AGENT_IDLE_AWAY_SECONDS). It never brings an `away` agent back: that is the agent's choice."""
    await agents.note_activity(principal)


@router.put("/{admin_id}/availability", response_model=AgentData, responses=raises(
    _UNKNOWN, SupervisorsOnly("forbidden: only supervisors set another agent's availability")))
async def set_availability(
    admin_id: AdminId, body: AvailabilityBody, principal: CurrentAdmin, agents: AgentsDep
) -> AgentData:
    return await agents.set_availability(principal, admin_id, body.availability)


@router.put("/{admin_id}/capacity", response_model=AgentData, responses=raises(
    _UNKNOWN, SupervisorsOnly("forbidden: only supervisors set an agent's capacity")))
async def set_capacity(admin_id: AdminId, body: CapacityBody, principal: CurrentAdmin, agents: AgentsDep) -> AgentData:
    """Lowering it below the agent's current load takes nothing away: no new session until under it."""
    return await agents.set_capacity(principal, admin_id, body.capacity)
