"""The use cases of chat-svc. Each runs in one transaction: state change and its events (outbox) commit together.

REST routes (chat_svc.api), socket commands (chat_svc.commands) and the presence consumer (chat_svc.presence)
all call these methods; the rules themselves live in chat_svc.domain.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from contracts.identity import Principal
from contracts.payloads import (
    AssignmentReason,
    CloseReason,
    SenderType,
    SessionData,
    SessionStatus,
    is_attachment_id,
)
from contracts.payloads.system_text import DEFAULT_LOCALE, Locale, SystemTextParams, render, system_text
from contracts.time import now_beijing
from servicekit.uow import UnitOfWork, UnitsOfWork
from sqlalchemy.ext.asyncio import AsyncConnection

from chat_svc import agents, customers, domain, left_messages, notes, queue, store, working_hours_store
from chat_svc import reply_deadlines_store as reply_deadlines
from chat_svc.agents_events import AgentLog
from chat_svc.domain import Conflict, Forbidden, Invalid, InvalidInput, NotFound
from chat_svc.events import EventLog, message_data, session_data
from chat_svc.rows import SessionRow

Scope = Literal["mine", "waiting", "all"]


@dataclass
class Tx:
    """One use case's unit of work (servicekit.uow) and the chat events it publishes through it."""

    uow: UnitOfWork
    events: EventLog
    agents: AgentLog

    @property
    def db(self) -> AsyncConnection:
        return self.uow.db


class Chat:
    def __init__(
        self, work: UnitsOfWork, *, capacity: int, presence_ttl_seconds: int = 60, default_priority: int = 3,
        clock: Callable[[], datetime] = now_beijing, system_text_locale: Locale = DEFAULT_LOCALE,
        abandon_waiting_after_seconds: float = 0, close_inactive_after_seconds: float = 0, vip_priority: int = 5,
        left_message_notify: left_messages.NotifyWho = "supervisors", session_state_in_message_events: bool = True,
    ) -> None:
        self._work = work
        self.session_state_in_message_events = session_state_in_message_events
        self.left_message_notify: left_messages.NotifyWho = left_message_notify
        self.abandon_waiting_after_seconds = abandon_waiting_after_seconds
        self.close_inactive_after_seconds = close_inactive_after_seconds
        self.system_text_locale = system_text_locale
        self.capacity = capacity
        self.default_priority = default_priority
        self.presence_ttl_seconds = presence_ttl_seconds
        self.clock = clock
        self.vip_priority = vip_priority

    @asynccontextmanager
    async def transaction(self, *, correlation_id: str | None = None) -> AsyncIterator[Tx]:
        """A unit of work: the change and its events commit together; every event carries `correlation_id`."""
        async with self._work.begin(correlation_id=correlation_id) as uow:
            yield Tx(uow, EventLog(uow, session_in_messages=self.session_state_in_message_events),
                     AgentLog(uow, self.capacity, self.clock))

    # --- end users and admins: messages -----------------------------------------------------------------

    async def open_session(
        self, principal: Principal, *, content: str, message_type: str, idempotency_key: str | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """A user's message to customer service: into their open session (200) or a new one (201) that is
        assigned at once when an admin has room. Returns (status, SessionData as JSON). A new session gets
        `default_priority`, or `vip_priority` for a VIP (chat_svc.customers): its place in the queue is the
        platform's and the admins' choice (`set_priority`), never the user's."""
        priority = self.default_priority
        if principal.is_admin:
            raise Forbidden("forbidden: only end users open customer-service sessions")
        user_id = principal.user_id
        async with self.transaction() as tx:

            async def create() -> tuple[int, dict[str, Any]]:
                await store.lock(tx.db, f"user:{user_id}")  # one open session per user, even under a race
                row = await store.open_session_of(tx.db, user_id)
                status = 200 if row is not None else 201
                if row is None:
                    row = await store.insert_session(tx.db, user_id, await customers.priority_for(
                        tx.db, user_id, default_priority=priority, vip_priority=self.vip_priority))
                await _check_picture(tx, row.id, content, message_type)
                message, row = await store.add_message(tx.db, row.id, sender_type="user", sender_id=user_id,
                                                       content=content, message_type=message_type)
                await tx.events.message_created(message, row, final=status == 200)  # 201: assigned below
                await self._note_reply_state(tx, row, "user")
                if status == 201:
                    await self.assign_waiting(tx)
                    row = await self._session(tx, row.id)
                    if row.status == "waiting":  # nobody took it: outside hours or nobody online? (left_messages)
                        row = await left_messages.leave_if_unserved(self, tx, row, message)
                return status, session_data(row).model_dump(mode="json")

            request = {"content": content, "message_type": message_type, "priority": priority}
            return await tx.uow.once(user_id=user_id, key=idempotency_key, operation="open_session",
                                     request=request, create=create)

    async def send_message(
        self, principal: Principal, session_id: int, content: str, message_type: str = "text", *,
        idempotency_key: str | None = None, correlation_id: str | None = None,
    ) -> dict[str, Any]:
        """The session's user or its assigned admin posts a message; returns ChatMessageData as JSON.
        The socket command `chat.send_message` calls exactly this (with its command id as `correlation_id`)."""
        async with self.transaction(correlation_id=correlation_id) as tx:

            async def create() -> tuple[int, dict[str, Any]]:
                row = await self._session(tx, session_id, for_update=True)
                domain.check_can_post(principal, store.ref(row))
                await _check_picture(tx, row.id, content, message_type)
                message, row = await store.add_message(
                    tx.db, row.id, sender_type="admin" if principal.is_admin else "user",
                    sender_id=principal.user_id, content=content, message_type=message_type,
                )
                await self._note_reply_state(tx, row, "admin" if principal.is_admin else "user")
                await tx.events.message_created(message, row, final=True)  # the unit's last change
                return 201, message_data(message).model_dump(mode="json")

            request = {"session_id": session_id, "content": content, "message_type": message_type}
            _, body = await tx.uow.once(user_id=principal.user_id, key=idempotency_key, operation="send_message",
                                        request=request, create=create)
            return body

    async def messages(
        self, principal: Principal, session_id: int, *, before_id: int | None, after_id: int | None, limit: int
    ) -> dict[str, Any]:
        if before_id is not None and after_id is not None:
            raise InvalidInput("after_id", "give before_id or after_id, not both")
        async with self.transaction() as tx:
            row = await self._session(tx, session_id)
            domain.check_can_view(principal, store.ref(row))
            rows, has_more = await store.message_page(tx.db, session_id, before_id=before_id, after_id=after_id,
                                                      limit=limit)
        forward = after_id is not None
        return {
            "items": [message_data(m).model_dump(mode="json") for m in rows],
            "has_more": has_more,
            "next_before_id": rows[0].id if has_more and rows and not forward else None,
            "next_after_id": rows[-1].id if has_more and rows and forward else None,
        }

    # --- sessions -------------------------------------------------------------------------------------------

    async def get_session(self, principal: Principal, session_id: int) -> SessionData:
        async with self.transaction() as tx:
            row = await self._session(tx, session_id)
            domain.check_can_view(principal, store.ref(row))
            return session_data(row)

    async def session_snapshot(self, session_id: int) -> SessionData:
        """A session as it is now, for trusted internal callers (the gateway's participants query)."""
        async with self.transaction() as tx:
            return session_data(await self._session(tx, session_id))

    async def list_sessions(
        self, principal: Principal, *, scope: Scope, status: str | None, page: int, page_size: int
    ) -> dict[str, Any]:
        """Admins: their own sessions (`mine`), the queue (`waiting`, in assignment order) or `all`."""
        if not principal.is_admin:
            raise Forbidden("forbidden: admins only (end users: /my/sessions)")
        filters: dict[str, Any] = {"status": status}
        if scope == "mine":
            filters["admin_id"] = principal.user_id
        elif scope == "waiting":
            if status not in (None, "waiting"):
                return _page([], 0, page, page_size)
            filters = {"status": "waiting", "queue_order": True}
        return await self._page(filters, page, page_size)

    async def my_sessions(
        self, principal: Principal, *, status: str | None, page: int, page_size: int
    ) -> dict[str, Any]:
        if principal.is_admin:
            raise Forbidden("forbidden: end users only (admins: /sessions)")
        return await self._page({"user_id": principal.user_id, "status": status}, page, page_size)

    async def _page(self, filters: dict[str, Any], page: int, page_size: int) -> dict[str, Any]:
        async with self.transaction() as tx:
            rows, total = await store.list_sessions(tx.db, page=page, page_size=page_size, **filters)
        return _page([session_data(r).model_dump(mode="json") for r in rows], total, page, page_size)

    async def set_priority(self, principal: Principal, session_id: int, priority: int) -> SessionData:
        """Admins move an open session in the queue (5 first); the session's participants see the change."""
        async with self.transaction() as tx:
            row = await self._session(tx, session_id, for_update=True)
            domain.check_can_reprioritize(principal, store.ref(row))
            if row.priority != priority:
                row = await store.set_priority(tx.db, session_id, priority)
                tx.events.session_changed(session_id)
            return session_data(row)

    async def mark_read(self, principal: Principal, session_id: int, up_to: int | None = None) -> SessionData:
        """The session's user or its assigned admin has read its messages up to `up_to` (default: the newest).
        The position only moves forward; when it moves, the other side hears it (`chat.read_state_changed`).
        The admin's unread count is reset as before."""
        async with self.transaction() as tx:
            row = await self._session(tx, session_id, for_update=True)
            domain.check_can_mark_read(principal, store.ref(row))
            reader: SenderType = "admin" if principal.is_admin else "user"
            if principal.is_admin:
                row = await store.reset_unread(tx.db, session_id)
                tx.events.session_changed(session_id)
            newest = await store.newest_message_id(tx.db, session_id)
            target = newest if up_to is None or newest is None else min(up_to, newest)
            moved = await store.set_read(tx.db, session_id, reader, target) if target is not None else None
            if moved is not None:
                row = moved
                await tx.events.read_state_changed(row, reader)
            return session_data(row)

    async def claim(self, principal: Principal, session_id: int) -> SessionData:
        """An admin takes a waiting session (online or not, but within their capacity)."""
        async with self.transaction() as tx:
            await store.lock(tx.db, store.ASSIGNMENT_LOCK)
            row = await self._session(tx, session_id, for_update=True)
            domain.check_can_claim(principal, store.ref(row))
            [load] = await store.admin_loads(tx.db, [principal.user_id], self.capacity)
            domain.check_can_take(load, principal.user_id)
            agents.check_takes_new(load)
            row = await self._assign(tx, session_id, principal.user_id, "claim", self.clock(),
                                     domain.assigned_text(principal.user_id))
            return session_data(row)

    async def transfer(
        self, principal: Principal, session_id: int, to_admin: int, note: str | None = None
    ) -> SessionData:
        """Hand an assigned session to another online admin with room; the seat freed goes to the queue. A `note`
        becomes a private note on the session for the new agent (chat_svc.notes), never seen by the user."""
        async with self.transaction() as tx:
            await store.lock(tx.db, store.ASSIGNMENT_LOCK)
            row = await self._session(tx, session_id, for_update=True)
            domain.check_is_assigned_admin(principal, store.ref(row))
            if to_admin == principal.user_id:
                raise Conflict(f"session {session_id} is already assigned to you", code="same_admin")
            online = domain.online_admins(await store.presence(tx.db), self.clock())
            loads = await store.admin_loads(tx.db, [to_admin], self.capacity) if to_admin in online else [None]
            agents.check_takes_new(domain.check_can_take(loads[0], to_admin))
            tx.agents.touch(principal.user_id)
            row = await self._assign(tx, session_id, to_admin, "transfer", self.clock(),
                                     domain.transferred_text(principal.user_id, to_admin))
            if note is not None:
                await notes.write(tx, session_id, principal.user_id, note, admin_id=to_admin, transfer_to=to_admin)
            await self.assign_waiting(tx)
            return session_data(row)

    async def close(self, principal: Principal, session_id: int) -> SessionData:
        async with self.transaction() as tx:
            await store.lock(tx.db, store.ASSIGNMENT_LOCK)
            row = await self._session(tx, session_id, for_update=True)
            domain.check_is_assigned_admin(principal, store.ref(row))
            tx.agents.touch(principal.user_id)
            await store.set_closed(tx.db, session_id, "agent")
            row = await self.system_message(tx, session_id, principal.user_id, domain.closed_text(principal.user_id))
            await self.assign_waiting(tx)
            return session_data(row)

    async def end_by_user(self, principal: Principal, session_id: int) -> SessionData:
        """The session's user ends it: a waiting one leaves the queue, an active one's agent is told (the system
        message and `chat:session_update`) and the seat it frees goes to the queue."""
        async with self.transaction() as tx:
            await store.lock(tx.db, store.ASSIGNMENT_LOCK)
            row = await self._session(tx, session_id, for_update=True)
            domain.check_can_end(principal, store.ref(row))
            row = await store.set_closed(tx.db, session_id, "user")
            if row.admin_id is not None:
                tx.agents.touch(row.admin_id)  # a seat freed: supervisors see the load drop
            row = await self.system_message(tx, session_id, row.admin_id or row.user_id,
                                             domain.closed_by_user_text(row.user_id))
            await self.assign_waiting(tx)
            return session_data(row)

    # --- assignment -----------------------------------------------------------------------------------------

    async def assign_waiting(self, tx: Tx) -> int:
        """Offer the queue to the online admins with room (domain.plan_assignments); returns how many were
        assigned. Holds the assignment lock until the caller's transaction ends."""
        await store.lock(tx.db, store.ASSIGNMENT_LOCK)
        waiting = await store.waiting_sessions(tx.db)
        if not waiting:
            return 0
        now = self.clock()
        online = domain.online_admins(await store.presence(tx.db), now)
        loads = agents.accepting(await store.admin_loads(tx.db, online, self.capacity))
        plan = domain.plan_assignments(waiting, loads, now)
        for assignment in plan:
            await self._assign(tx, assignment.session_id, assignment.admin_id, "auto", assignment.assigned_at,
                               domain.assigned_text(assignment.admin_id))
        return len(plan)

    async def sweep(self) -> int:
        """Forget gateways whose heartbeat expired, then offer the queue again."""
        async with self.transaction() as tx:
            await store.lock(tx.db, store.ASSIGNMENT_LOCK)
            await store.PRESENCE.forget_expired(tx.db, self.clock())
            await self.close_idle(tx)
            return await self.assign_waiting(tx)

    async def close_idle(self, tx: Tx) -> list[int]:
        """Close, with a system message each, the waiting sessions whose user has sent nothing for
        `abandon_waiting_after_seconds` (`abandoned`) and the active ones with no message from either side for
        `close_inactive_after_seconds` (`inactive`); 0 turns either off. A waiting session's time counts only
        while customer service is served (left_messages.served_since: within working hours, an agent online and
        available). Returns the ids closed. Run by the sweep under the assignment lock; safe with several
        processes (store.close_idle)."""
        now = self.clock()
        served_since = await left_messages.served_since(self, tx, now)
        rules: list[tuple[SessionStatus, CloseReason, float, tuple[str, ...]]] = [
            ("waiting", "abandoned", self.abandon_waiting_after_seconds, ("user",)),
            ("active", "inactive", self.close_inactive_after_seconds, ("user", "admin")),
        ]
        closed: list[int] = []
        for status, reason, after, senders in rules:
            if after <= 0:
                continue
            if status == "waiting" and not left_messages.abandon_counts(served_since, now, after):
                continue  # nobody serves now, or not for long: a waiting user is not gone, just unserved
            rows = await store.close_idle(tx.db, status=status, reason=reason, senders=senders,
                                          since=now - timedelta(seconds=after))
            for row in rows:
                if row.admin_id is not None:
                    tx.agents.touch(row.admin_id)  # a seat freed: supervisors see the load drop
                await self.system_message(tx, row.id, row.admin_id or row.user_id,
                                           domain.CLOSED_BY_PLATFORM[reason])
                closed.append(row.id)
        return closed

    async def _assign(
        self, tx: Tx, session_id: int, admin_id: int, reason: AssignmentReason, at: datetime, note: SystemTextParams
    ) -> SessionRow:
        row = await store.set_assigned(tx.db, session_id, admin_id, at)
        await reply_deadlines.assigned(tx.db, session_id, admin_id, at)
        tx.agents.touch(admin_id)
        await store.note_assignment(tx.db, admin_id, at)
        if reason in ("auto", "claim"):  # it left the queue (a transfer moves a session that already had)
            await queue.note_departure(tx.db, session_id, at)
        await tx.events.session_assigned(row, reason)
        row = await self.system_message(tx, session_id, admin_id, note)
        if reason in ("auto", "claim"):  # the configured greeting, in every language (chat_svc.working_hours)
            row = await self.system_message(tx, session_id, admin_id, await working_hours_store.greeting(tx.db))
        return row

    async def reassign(
        self, tx: Tx, session_id: int, admin_id: int, at: datetime, note: SystemTextParams
    ) -> SessionRow:
        """Give an assigned session to `admin_id` (a `transfer` the platform decides, chat_svc.reply_deadlines),
        with `note` as the system message. The caller holds the assignment lock and chose an admin with room."""
        return await self._assign(tx, session_id, admin_id, "transfer", at, note)

    async def _note_reply_state(self, tx: Tx, row: SessionRow, sender: SenderType) -> None:
        """A message in an active session: the user's starts the wait for the agent's reply (unless one runs),
        the agent's ends it (chat_svc.reply_deadlines)."""
        if row.status != "active" or row.admin_id is None:
            return
        if sender == "admin":
            await reply_deadlines.answered(tx.db, row.id)
        else:
            await reply_deadlines.user_wrote(tx.db, row.id, row.admin_id, self.clock())

    async def system_message(self, tx: Tx, session_id: int, sender_id: int, note: SystemTextParams) -> SessionRow:
        """A system message: its code and parameters, and their rendering in `system_text_locale` as the
        content (what clients that know no codes show)."""
        code, params = system_text(note)
        message, row = await store.add_message(
            tx.db, session_id, sender_type="system", sender_id=sender_id, message_type="system",
            content=render(code, params, self.system_text_locale), system_code=code, system_params=params,
        )
        await tx.events.message_created(message, row)
        return row

    async def _session(self, tx: Tx, session_id: int, *, for_update: bool = False) -> SessionRow:
        row = await store.get_session(tx.db, session_id, for_update=for_update)
        if row is None:
            raise NotFound(f"session {session_id} not found")
        return row


async def _check_picture(tx: Tx, session_id: int, content: str, message_type: str) -> None:
    """An image message's content is the id of a picture uploaded into that very session (422 otherwise)."""
    if message_type != "image":
        return
    attachment = (await store.get_attachment(tx.db, UUID(content), for_share=True)
                  if is_attachment_id(content) else None)
    if attachment is None or attachment.session_id != session_id:
        raise Invalid(f"content: no picture {content!r} was uploaded to session {session_id}", field="content",
                      code="unknown_attachment")


def _page(items: list[Any], total: int, page: int, page_size: int) -> dict[str, Any]:
    return {"items": items, "total": total, "page": page, "page_size": page_size}
