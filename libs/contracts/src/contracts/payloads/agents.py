"""Customer-service agents as supervisors see them: availability, whether a socket is open, load and capacity.
REST answers with `AgentData` (`/api/v4/customer-service/agents`), the domain event `chat.agent_updated`
carries it, and the gateway pushes it as `chat:agent_update` (a platform addition: to supervisors and to the
agent concerned)."""

from typing import Annotated, Literal

from pydantic import Field, Strict

from contracts.fields import Count, Flag, Id, Outbound
from contracts.time import BeijingDatetime

AgentAvailability = Literal["online", "busy", "away"]
"""What the agent (or a supervisor, or the idle timer) set: `online` takes new sessions; `busy` keeps its
sessions and takes no new ones; `away` takes none."""
AgentStatus = Literal["online", "busy", "away", "offline"]
"""The effective state: `offline` whenever the agent has no socket open, whatever the setting."""
AvailabilityChangedBy = Literal["self", "supervisor", "idle"]


class AgentData(Outbound):
    """``chat:agent_update``: one agent's availability and load, now."""

    admin_id: Id
    availability: AgentAvailability
    online: Flag = Field(description="At least one socket of this agent is connected to a gateway")
    status: AgentStatus
    active_sessions: Count
    capacity: Annotated[int, Strict(), Field(ge=1)]
    availability_changed_at: BeijingDatetime | None = Field(
        description="When the availability was last set (null: never set, the default `online`)")
    changed_by: AvailabilityChangedBy | None = Field(
        description="Who set it last: the agent, a supervisor, or the idle timer (`idle`: the agent was "
                    "inactive for CHAT_AGENT_IDLE_AWAY_SECONDS)")
