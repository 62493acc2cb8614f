"""Reply deadlines: a user's message the session's agent leaves unanswered.

Past `remind_after_seconds` of open time the agent gets one reminder (`reply_reminder`, an alert to that agent
only: chat_svc.agent_alerts). Past `reassign_after_seconds` the session goes to another agent online with room
(the assignment rules: `online` availability, under capacity, fewest sessions first), with a system message to the
user (`session_reassigned`) and an alert to each agent (`reply_reassigned_away`, `reply_reassigned_to_you`); the
deadlines then start over for the new agent. When no other agent has room the session stays with its agent, who
is told once (`reply_overdue`), and every sweep tries again until someone has room or the agent replies.

The wait runs from the oldest unanswered user message (further messages do not move it), or from the assignment
when the session came with one; the agent's reply ends it. Only open time counts (`WorkingTime.add`): outside
working hours the deadlines pause. The waits are rows (`chat.reply_deadlines`, written by chat_svc.service with
the messages), found by a periodic sweep, so they survive a restart of chat-svc; each reminder and reassignment
happens once with any number of processes (the sweep holds the assignment lock, skips sessions being written and
marks each wait with a conditional UPDATE).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from contracts.payloads.system_text import (
    ReplyOverdueParams,
    ReplyReassignedAwayParams,
    ReplyReassignedToYouParams,
    ReplyReminderParams,
    SessionReassignedParams,
)
from servicekit.tasks import every
from sqlalchemy.ext.asyncio import AsyncConnection

from chat_svc import agent_alerts, agents, domain, store
from chat_svc import reply_deadlines_store as deadlines
from chat_svc.reply_deadlines_store import PendingReply
from chat_svc.service import Chat, Tx
from chat_svc.working_time import ALWAYS_OPEN, WorkingTime

log = logging.getLogger(__name__)

WorkingTimeSource = Callable[[AsyncConnection], Awaitable[WorkingTime]]
"""Where the sweep gets the working hours from, read within its transaction (chat_svc.main wires it)."""


async def always_open(db: AsyncConnection) -> WorkingTime:
    return ALWAYS_OPEN


@dataclass(frozen=True)
class DeadlineSettings:
    remind_after_seconds: float = 60.0
    """0: no reminder."""
    reassign_after_seconds: float = 180.0
    """0: no reassignment."""


class ReplyDeadlines:
    def __init__(self, chat: Chat, settings: DeadlineSettings | None = None, *,
                 working_time: WorkingTimeSource = always_open) -> None:
        self.chat = chat
        self.settings = settings or DeadlineSettings()
        self.working_time = working_time

    async def sweep(self, now: datetime | None = None) -> int:
        """Send the reminders and make the reassignments that are due at `now` (default: the chat's clock).
        Returns how many sessions were reassigned."""
        now = now or self.chat.clock()
        remind, reassign = self.settings.remind_after_seconds, self.settings.reassign_after_seconds
        remind_before = now - timedelta(seconds=remind) if remind > 0 else None
        reassign_before = now - timedelta(seconds=reassign) if reassign > 0 else None
        async with self.chat.transaction() as tx:
            if not await deadlines.any_due(tx.db, remind_before=remind_before, reassign_before=reassign_before):
                return 0
        async with self.chat.transaction() as tx:
            await store.lock(tx.db, store.ASSIGNMENT_LOCK)
            await deadlines.forget_stale(tx.db)
            hours = await self.working_time(tx.db)
            reassigned = 0
            for reply in await deadlines.pending(tx.db, remind_before=remind_before, reassign_before=reassign_before):
                if remind > 0 and reply.reminded_at is None and hours.add(reply.since, remind) <= now:
                    await self._remind(tx, reply, now)
                if reassign > 0 and hours.add(reply.since, reassign) <= now:
                    reassigned += await self._reassign(tx, reply, now)
            if reassigned:
                await self.chat.assign_waiting(tx)  # the seats freed go to the queue
            return reassigned

    async def _remind(self, tx: Tx, reply: PendingReply, now: datetime) -> None:
        if await deadlines.mark(tx.db, reply, "reminded_at", now):
            note = ReplyReminderParams(session_id=reply.session_id, seconds=int(self.settings.remind_after_seconds))
            await self._alert(tx, reply.admin_id, note, reply.session_id, now)
            log.info("session %d: agent %d reminded to reply", reply.session_id, reply.admin_id)

    async def _reassign(self, tx: Tx, reply: PendingReply, now: datetime) -> int:
        session_id, old = reply.session_id, reply.admin_id
        online = domain.online_admins(await store.presence(tx.db), now) - {old}
        target = domain.choose_admin(agents.accepting(await store.admin_loads(tx.db, online, self.chat.capacity)))
        seconds = int(self.settings.reassign_after_seconds)
        if target is None:
            if await deadlines.mark(tx.db, reply, "escalated_at", now):
                await self._alert(tx, old, ReplyOverdueParams(session_id=session_id, seconds=seconds), session_id,
                                  now)
                log.info("session %d: no reply from agent %d and nobody else has room", session_id, old)
            return 0
        new = target.admin_id
        tx.agents.touch(old)
        await self.chat.reassign(tx, session_id, new, now, SessionReassignedParams(from_agent_id=old, to_agent_id=new))
        await self._alert(tx, old, ReplyReassignedAwayParams(session_id=session_id, to_agent_id=new, seconds=seconds),
                          session_id, now)
        await self._alert(tx, new, ReplyReassignedToYouParams(session_id=session_id, from_agent_id=old), session_id,
                          now)
        log.info("session %d: no reply from agent %d in %ds, reassigned to %d", session_id, old, seconds, new)
        return 1

    async def _alert(self, tx: Tx, admin_id: int, note: ReplyReminderParams | ReplyOverdueParams
                     | ReplyReassignedAwayParams | ReplyReassignedToYouParams, session_id: int, now: datetime) -> None:
        await agent_alerts.alert(tx.uow, admin_id, note, level="warning", at=now,
                                 locale=self.chat.system_text_locale, session_id=session_id)


async def sweep_forever(service: ReplyDeadlines, interval: float) -> None:
    await every(interval, service.sweep, "reply deadlines sweep")
