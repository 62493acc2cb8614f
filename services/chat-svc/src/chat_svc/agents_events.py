"""`chat.agent_updated` (ChatAgentUpdated, aggregate_id = the admin id): an agent's availability, presence or
load changed. The gateway pushes it as `chat:agent_update` to supervisors and to that agent.

Like chat_svc.events.EventLog, deferred to the end of the unit of work: each agent a use case touched is
announced once, with its final state (`touch(admin_id)` wherever a seat is taken or freed, availability or
capacity set, or a socket opened or closed)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from contracts.events.payloads import ChatAgentUpdated
from contracts.events.registry import CHAT_AGENT_UPDATED
from servicekit.uow import UnitOfWork

from chat_svc import agents_store, domain, store


class AgentLog:
    def __init__(self, uow: UnitOfWork, default_capacity: int, clock: Callable[[], datetime]) -> None:
        self._uow = uow
        self._default_capacity = default_capacity
        self._clock = clock
        self._touched: dict[int, None] = {}
        uow.before_commit(self.flush)

    def touch(self, admin_id: int) -> None:
        self._touched[admin_id] = None

    async def flush(self) -> None:
        if not self._touched:
            return
        db = self._uow.db
        online = domain.online_admins(await store.presence(db), self._clock())
        for state in await agents_store.states(db, self._touched, online, self._default_capacity):
            await self._uow.publish(CHAT_AGENT_UPDATED, ChatAgentUpdated(agent=state.data()), state.admin_id)
            await agents_store.note_announced(db, state.admin_id, state.online)
        self._touched.clear()
