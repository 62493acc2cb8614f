"""The agents' use cases: list them, set availability (self or a supervisor) and capacity (supervisors), note
activity, and the periodic sweep (idle -> away, online/offline announcements, the away policy).

Each runs in one transaction of chat_svc.service.Chat and, when it may free or open seats, offers the queue again
(Chat.assign_waiting). Rules: chat_svc.agents.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from contracts.identity import Principal
from contracts.payloads.agents import AgentAvailability, AgentData
from contracts.payloads.system_text import SessionRequeuedParams
from servicekit.tasks import every

from chat_svc import agents, agents_store, domain, store
from chat_svc.agents import AgentState, AwayPolicy, UnknownAgent
from chat_svc.service import Chat, Tx

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AgentSettings:
    idle_away_seconds: int = 900
    away_policy: AwayPolicy = "stay"
    away_grace_seconds: int = 120


class Agents:
    def __init__(self, chat: Chat, settings: AgentSettings | None = None) -> None:
        self.chat = chat
        self.settings = settings or AgentSettings()

    async def all(self, principal: Principal) -> list[AgentData]:
        """Every known agent (any admin may look: agents pick a transfer target from it)."""
        agents.check_is_admin(principal)
        async with self.chat.transaction() as tx:
            return [s.data() for s in await self._states(tx, None)]

    async def get(self, principal: Principal, admin_id: int) -> AgentData:
        agents.check_is_admin(principal)
        async with self.chat.transaction() as tx:
            if admin_id == principal.user_id:
                await agents_store.ensure(tx.db, [admin_id], self.chat.clock())
                await _note_role(tx, principal, self.chat.clock())
            return (await self._known(tx, admin_id)).data()

    async def set_availability(
        self, principal: Principal, admin_id: int, availability: AgentAvailability
    ) -> AgentData:
        """`online` offers the queue to the agent at once; `busy`/`away` stop new sessions (current ones stay,
        or follow the away policy)."""
        by = agents.availability_setter(principal, admin_id)
        async with self.chat.transaction() as tx:
            await store.lock(tx.db, store.ASSIGNMENT_LOCK)
            now = self.chat.clock()
            if by == "self":
                await agents_store.ensure(tx.db, [admin_id], now)
            await _note_role(tx, principal, now)
            await self._known(tx, admin_id)
            await agents_store.set_availability(tx.db, admin_id, availability, by, now)
            tx.agents.touch(admin_id)
            await self.chat.assign_waiting(tx)
            return (await self._known(tx, admin_id)).data()

    async def set_capacity(self, principal: Principal, admin_id: int, capacity: int | None) -> AgentData:
        """Supervisors: the agent's own capacity (None: back to CHAT_ADMIN_CAPACITY). Lowering it below the
        agent's current load takes nothing away: they get no new session until they are under it."""
        agents.check_is_admin(principal)
        agents.check_is_supervisor(principal, "set an agent's capacity")
        async with self.chat.transaction() as tx:
            await store.lock(tx.db, store.ASSIGNMENT_LOCK)
            await self._known(tx, admin_id)
            await agents_store.set_capacity(tx.db, admin_id, capacity)
            tx.agents.touch(admin_id)
            await self.chat.assign_waiting(tx)
            return (await self._known(tx, admin_id)).data()

    async def note_activity(self, principal: Principal) -> None:
        """The console says its agent is at work (at most about once a minute): the idle timer starts over."""
        agents.check_is_admin(principal)
        async with self.chat.transaction() as tx:
            await agents_store.note_activity(tx.db, principal.user_id, self.chat.clock())
            await _note_role(tx, principal, self.chat.clock())

    async def sweep(self) -> int:
        """Record who is online; announce agents whose presence changed since last told (a gateway that
        expired says nothing); make idle agents `away` (they are told by `chat:agent_update`,
        changed_by `idle`); under the `requeue` policy, put the waiting-for-reply sessions of agents away or
        offline past the grace period back in the queue. Returns how many sessions were requeued."""
        async with self.chat.transaction() as tx:
            await store.lock(tx.db, store.ASSIGNMENT_LOCK)
            now = self.chat.clock()
            online = domain.online_admins(await store.presence(tx.db), now)
            await agents_store.ensure(tx.db, online, now)
            await agents_store.note_seen_online(tx.db, online, now)
            for admin_id in online ^ await agents_store.announced_online(tx.db):
                tx.agents.touch(admin_id)
            states = await self._states(tx, None, online)
            for admin_id in agents.idle(states, now, self.settings.idle_away_seconds):
                await agents_store.set_availability(tx.db, admin_id, "away", "idle", now)
                tx.agents.touch(admin_id)
                log.info("agent %d idle for %ds: away", admin_id, self.settings.idle_away_seconds)
            requeued = 0
            if self.settings.away_policy == "requeue":
                states = await self._states(tx, None, online)
                requeued = await self._requeue(tx, agents.gone(states, now, self.settings.away_grace_seconds))
            if requeued:
                await self.chat.assign_waiting(tx)
            return requeued

    async def _requeue(self, tx: Tx, admin_ids: list[int]) -> int:
        sessions = await agents_store.awaiting_reply(tx.db, admin_ids)
        for session_id in sessions:
            row = await store.get_session(tx.db, session_id)
            if row is None or row.admin_id is None:  # pragma: no cover - locked by awaiting_reply
                continue
            admin_id = row.admin_id
            # still routed to the agent who had it
            await self.chat.system_message(tx, session_id, admin_id, SessionRequeuedParams(agent_id=admin_id))
            await agents_store.requeue(tx.db, session_id)
            tx.events.session_changed(session_id)
            tx.agents.touch(admin_id)
            log.info("session %d back in the queue: agent %d away or offline", session_id, admin_id)
        return len(sessions)

    async def _states(self, tx: Tx, admin_ids: list[int] | None, online: set[int] | None = None) -> list[AgentState]:
        if online is None:
            online = domain.online_admins(await store.presence(tx.db), self.chat.clock())
        return await agents_store.states(tx.db, admin_ids, online, self.chat.capacity)

    async def _known(self, tx: Tx, admin_id: int) -> AgentState:
        if admin_id not in await agents_store.known(tx.db):
            raise UnknownAgent(f"agent {admin_id} not found: chat-svc knows an agent once they have connected")
        [state] = await self._states(tx, [admin_id])
        return state


async def sweep_forever(service: Agents, interval: float) -> None:
    await every(interval, service.sweep, "agents sweep")


async def _note_role(tx: Tx, principal: Principal, now: datetime) -> None:
    """Remember the caller's role as their token says (who the supervisors are: chat_svc.left_messages)."""
    await agents_store.note_role(tx.db, principal.user_id, principal.role or "agent", now)
