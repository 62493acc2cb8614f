"""Left messages: a user who opens a session that nobody can take now is told at once, their message waits, and
admins hear about it; and the rule that keeps such a session from being closed as abandoned.

- Told at once: a new session still waiting after the assignment offer gets a system message, outside working
  hours `outside_working_hours {next_open_at}` (it wins: it says when to expect an answer), else with no agent
  online and available `no_agent_online`. An agent online with no room left is neither: the user waits in the
  queue and sees their place (chat:queue_update). Working hours do not stop assignment: an agent online
  outside them still gets sessions.
- Admins hear about it: `chat.message_left` (outbox, in the same transaction) names the recipients:
  CHAT_LEFT_MESSAGE_NOTIFY=`supervisors` (the default): the admins whose token said `supervisor` when they
  called chat-svc (chat.admins.role); `all_agents`, or no supervisor known yet: null, every admin (a broadcast).
  notification-svc turns it into `notification:new` (it does not know roles: only auth-svc's tokens carry them,
  and chat-svc is the service that sees supervisors' tokens at work).
- Not abandoned while nobody serves: a waiting session counts as abandoned (CHAT_ABANDON_WAITING_AFTER_SECONDS
  without a message from its user) only counting from `served_since`, the moment customer service was last
  served without a break (within working hours, an agent online and available), kept by the sweep. Outside
  hours or with nobody online no waiting session is abandoned; once service resumes, its users get the full
  time again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from contracts.events.payloads import PREVIEW_MAX, ChatMessageLeft
from contracts.events.registry import CHAT_MESSAGE_LEFT
from contracts.payloads.system_text import NoAgentOnlineParams, OutsideWorkingHoursParams, SystemTextParams
from sqlalchemy.ext.asyncio import AsyncConnection

from chat_svc import agents, agents_store, domain, store, working_hours_store
from chat_svc.rows import MessageRow, SessionRow
from chat_svc.working_hours import next_open
from chat_svc.working_time import WorkingTime

if TYPE_CHECKING:
    from chat_svc.service import Chat, Tx

NotifyWho = Literal["supervisors", "all_agents"]


def notice(schedule: WorkingTime, now: datetime, accepting: bool) -> SystemTextParams | None:
    """What a user whose new session was not assigned at once is told (None: nothing, they just queue)."""
    if not schedule.is_open(now):
        return OutsideWorkingHoursParams(next_open_at=next_open(schedule, now))
    if not accepting:
        return NoAgentOnlineParams()
    return None


def abandon_counts(served_since: datetime | None, now: datetime, after_seconds: float) -> bool:
    """Whether waiting sessions may be closed as abandoned now: service has been served for `after_seconds`."""
    return served_since is not None and served_since <= now - timedelta(seconds=after_seconds)


async def accepting_agents(chat: Chat, db: AsyncConnection, now: datetime) -> bool:
    online = domain.online_admins(await store.presence(db), now)
    return bool(agents.accepting(await store.admin_loads(db, online, chat.capacity)))


async def recipients(db: AsyncConnection, notify: NotifyWho) -> list[int] | None:
    if notify == "all_agents":
        return None
    return await agents_store.with_role(db, "supervisor") or None


async def leave_if_unserved(chat: Chat, tx: Tx, row: SessionRow, message: MessageRow) -> SessionRow:
    """For a new session still waiting: tell its user and the admins when nobody can take it now."""
    now = chat.clock()
    schedule = await working_hours_store.working_time(tx.db)
    note = notice(schedule, now, await accepting_agents(chat, tx.db, now))
    if note is None:
        return row
    preview = row.last_message
    await chat.system_message(tx, row.id, row.user_id, note)
    row = await store.keep_last_message(tx.db, row.id, preview)  # the queue shows the user's words, not the notice
    outside = isinstance(note, OutsideWorkingHoursParams)
    payload = ChatMessageLeft(
        session_id=row.id, user_id=row.user_id, reason="outside_working_hours" if outside else "no_agent_online",
        message_type="image" if message.message_type == "image" else "text",
        preview="" if message.message_type == "image" else message.content[:PREVIEW_MAX],
        next_open_at=note.next_open_at if isinstance(note, OutsideWorkingHoursParams) else None,
        recipient_ids=await recipients(tx.db, chat.left_message_notify), at=now,
    )
    await tx.uow.publish(CHAT_MESSAGE_LEFT, payload, aggregate_id=row.id)
    return row


async def served_since(chat: Chat, tx: Tx, now: datetime) -> datetime | None:
    """Since when customer service has been served without a break (None: not now), updated for `now`. Run by
    the sweep under the assignment lock, so several processes agree."""
    served = (await working_hours_store.working_time(tx.db)).is_open(now) and await accepting_agents(
        chat, tx.db, now)
    since = await working_hours_store.served_since(tx.db)
    if served and since is None:
        since = now
        await working_hours_store.set_served_since(tx.db, since)
    elif not served and since is not None:
        since = None
        await working_hours_store.set_served_since(tx.db, None)
    return since
