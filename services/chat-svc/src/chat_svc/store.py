"""Reads and writes of schema `chat`, each within the caller's transaction (an AsyncConnection already begun)."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from contracts.payloads import CloseReason, SenderType, SessionStatus
from servicekit.gateway_presence import GatewayCounts
from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from chat_svc.db import admin_presence, admins, attachments, gateways, messages, sessions
from chat_svc.domain import MAX_DB_ID, OPEN_STATUSES, AdminLoad, GatewayPresence, SessionRef, WaitingSession
from chat_svc.rows import AttachmentRow, MessageRow, SessionRow


def _lock_key(name: str) -> int:
    return int.from_bytes(hashlib.blake2b(f"chat:{name}".encode(), digest_size=8).digest(), "big", signed=True)


ASSIGNMENT_LOCK = "assignment"


async def lock(db: AsyncConnection, name: str) -> None:
    """A transaction-scoped advisory lock. `ASSIGNMENT_LOCK` serializes every decision that changes who holds
    which session (auto-assignment, claim, transfer, close), so two of them never overfill one admin.
    Lock order: idempotency key -> user -> assignment -> session rows."""
    await db.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(name)})


async def try_lock(db: AsyncConnection, name: str) -> bool:
    """`lock` without waiting: False when another transaction holds it."""
    return bool((await db.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _lock_key(name)})).scalar_one())


def ref(row: SessionRow) -> SessionRef:
    return SessionRef(row.id, row.user_id, row.admin_id, row.status)


# --- sessions ---------------------------------------------------------------------------------------------


async def get_session(db: AsyncConnection, session_id: int, *, for_update: bool = False) -> SessionRow | None:
    if not 0 < session_id <= MAX_DB_ID:
        return None
    query = select(sessions).where(sessions.c.id == session_id)
    row = (await db.execute(query.with_for_update() if for_update else query)).first()
    return SessionRow.of(row) if row is not None else None


async def open_session_of(db: AsyncConnection, user_id: int) -> SessionRow | None:
    query = select(sessions).where(sessions.c.user_id == user_id, sessions.c.status.in_(OPEN_STATUSES))
    row = (await db.execute(query.with_for_update())).first()
    return SessionRow.of(row) if row is not None else None


async def insert_session(db: AsyncConnection, user_id: int, priority: int) -> SessionRow:
    statement = sessions.insert().values(user_id=user_id, priority=priority, status="waiting").returning(sessions)
    return SessionRow.of((await db.execute(statement)).one())


async def _update(db: AsyncConnection, session_id: int, **values: Any) -> SessionRow:
    statement = update(sessions).where(sessions.c.id == session_id).values(**values).returning(sessions)
    return SessionRow.of((await db.execute(statement)).one())


async def set_assigned(db: AsyncConnection, session_id: int, admin_id: int, at: datetime) -> SessionRow:
    return await _update(db, session_id, status="active", admin_id=admin_id, assigned_at=at, updated_at=func.now())


async def set_closed(db: AsyncConnection, session_id: int, reason: CloseReason) -> SessionRow:
    return await _update(db, session_id, status="closed", close_reason=reason, closed_at=func.now(),
                         updated_at=func.now())


async def close_idle(db: AsyncConnection, *, status: SessionStatus, reason: CloseReason, since: datetime,
                     senders: Sequence[str], limit: int = 100) -> list[SessionRow]:
    """Close the sessions in `status` with no message from `senders` since `since` (and not opened/assigned
    since then either): a deadline kept as data, found by a query on timestamps. The rows are taken
    `FOR UPDATE SKIP LOCKED` and the UPDATE is conditional on the status, so with several chat-svc processes
    sweeping at once each session is closed exactly once, and a session a use case holds right now (a message
    being written) is left for the next sweep."""
    s, m = sessions.c, messages.c
    started = s.assigned_at if status == "active" else s.created_at
    recent = select(m.id).where(m.session_id == s.id, m.sender_type.in_(list(senders)), m.created_at > since)
    due = (select(s.id).where(s.status == status, started <= since, ~recent.exists())
           .order_by(s.id).limit(limit).with_for_update(skip_locked=True))
    statement = (update(sessions).where(s.id.in_(due.scalar_subquery()), s.status == status)
                 .values(status="closed", close_reason=reason, closed_at=func.now(), updated_at=func.now())
                 .returning(sessions))
    return sorted((SessionRow.of(r) for r in (await db.execute(statement)).all()), key=lambda r: r.id)


async def newest_message_id(db: AsyncConnection, session_id: int) -> int | None:
    return (await db.execute(select(func.max(messages.c.id)).where(messages.c.session_id == session_id))).scalar()


async def set_read(db: AsyncConnection, session_id: int, reader: SenderType, up_to: int) -> SessionRow | None:
    """Move `reader`'s read position forward to `up_to` (never back); None when it was already there."""
    column = sessions.c[f"{reader}_last_read_message_id"]
    statement = (update(sessions)
                 .where(sessions.c.id == session_id, func.coalesce(column, 0) < up_to)
                 .values({column: up_to, sessions.c[f"{reader}_read_at"]: func.now()})
                 .returning(sessions))
    row = (await db.execute(statement)).first()
    return SessionRow.of(row) if row is not None else None


async def set_priority(db: AsyncConnection, session_id: int, priority: int) -> SessionRow:
    return await _update(db, session_id, priority=priority, updated_at=func.now())


async def reset_unread(db: AsyncConnection, session_id: int) -> SessionRow:
    return await _update(db, session_id, admin_unread_count=0, updated_at=func.now())


IMAGE_PREVIEW = "[image]"
"""A session's `last_message` after a picture (its message_content is an attachment id, no text to show)."""


async def add_message(
    db: AsyncConnection, session_id: int, *, sender_type: str, sender_id: int, content: str, message_type: str,
    system_code: str | None = None, system_params: dict[str, Any] | None = None,
) -> tuple[MessageRow, SessionRow]:
    """Insert a message and bring the session's last_message/updated_at (and, for a user's message, the
    admin's unread count) along; returns (message row, session row). A system message may carry its text's
    code and parameters (contracts.payloads.system_text)."""
    message = MessageRow.of((await db.execute(
        messages.insert().values(session_id=session_id, sender_type=sender_type, sender_id=sender_id,
                                 content=content, message_type=message_type, system_code=system_code,
                                 system_params=system_params).returning(messages)
    )).one())
    unread = sessions.c.admin_unread_count + (1 if sender_type == "user" else 0)
    preview = IMAGE_PREVIEW if message_type == "image" else content
    figures: dict[str, Any] = {}  # what the reports read (chat_svc.reports), kept with each message
    if sender_type != "system":
        figures["message_count"] = sessions.c.message_count + 1
    if sender_type == "admin":
        figures["first_reply_at"] = func.coalesce(sessions.c.first_reply_at, message.created_at)
    session = await _update(db, session_id, last_message=preview, updated_at=message.created_at,
                            admin_unread_count=unread, **figures)
    return message, session


async def list_sessions(
    db: AsyncConnection, *, user_id: int | None = None, admin_id: int | None = None, status: str | None = None,
    queue_order: bool = False, page: int, page_size: int,
) -> tuple[list[SessionRow], int]:
    conditions = []
    if user_id is not None:
        conditions.append(sessions.c.user_id == user_id)
    if admin_id is not None:
        conditions.append(sessions.c.admin_id == admin_id)
    if status is not None:
        conditions.append(sessions.c.status == status)
    order = ((sessions.c.priority.desc(), sessions.c.created_at, sessions.c.id) if queue_order
             else (sessions.c.updated_at.desc(), sessions.c.id.desc()))
    total = (await db.execute(select(func.count()).select_from(sessions).where(*conditions))).scalar_one()
    rows = (await db.execute(
        select(sessions).where(*conditions).order_by(*order).limit(page_size).offset((page - 1) * page_size)
    )).all()
    return [SessionRow.of(r) for r in rows], total


# --- messages ---------------------------------------------------------------------------------------------


async def message_page(
    db: AsyncConnection, session_id: int, *, before_id: int | None, after_id: int | None, limit: int
) -> tuple[list[MessageRow], bool]:
    """Up to `limit` messages, oldest first, and whether more exist in the paging direction: after `after_id`
    (forward) when given, else the newest ones before `before_id` (backward)."""
    query = select(messages).where(messages.c.session_id == session_id)
    if after_id is not None:
        query = query.where(messages.c.id > after_id).order_by(messages.c.id)
    else:
        if before_id is not None:
            query = query.where(messages.c.id < before_id)
        query = query.order_by(messages.c.id.desc())
    rows = [MessageRow.of(r) for r in (await db.execute(query.limit(limit + 1))).all()]
    has_more = len(rows) > limit
    rows = rows[:limit]
    return (rows if after_id is not None else rows[::-1]), has_more


# --- assignment -------------------------------------------------------------------------------------------


async def waiting_sessions(db: AsyncConnection, limit: int = 1000) -> list[WaitingSession]:
    rows = (await db.execute(
        select(sessions.c.id, sessions.c.priority, sessions.c.created_at)
        .where(sessions.c.status == "waiting")
        .order_by(sessions.c.priority.desc(), sessions.c.created_at, sessions.c.id)
        .limit(limit)
    )).all()
    return [WaitingSession(r.id, r.priority, r.created_at) for r in rows]


async def admin_loads(db: AsyncConnection, admin_ids: Iterable[int], default_capacity: int) -> list[AdminLoad]:
    ids = sorted(set(admin_ids))
    if not ids:
        return []
    active: dict[int, int] = dict((await db.execute(
        select(sessions.c.admin_id, func.count()).where(sessions.c.status == "active", sessions.c.admin_id.in_(ids))
        .group_by(sessions.c.admin_id)
    )).all())
    settings = {r.admin_id: r for r in (await db.execute(select(admins).where(admins.c.admin_id.in_(ids)))).all()}
    loads = []
    for admin_id in ids:
        row = settings.get(admin_id)
        capacity = row.capacity if row is not None and row.capacity is not None else default_capacity
        loads.append(AdminLoad(admin_id, active.get(admin_id, 0), capacity,
                               row.last_assigned_at if row is not None else None,
                               row.availability if row is not None else "online"))
    return loads


async def note_assignment(db: AsyncConnection, admin_id: int, at: datetime) -> None:
    statement = insert(admins).values(admin_id=admin_id, last_assigned_at=at)
    await db.execute(statement.on_conflict_do_update(
        index_elements=[admins.c.admin_id], set_={"last_assigned_at": statement.excluded.last_assigned_at}
    ))


# --- presence ---------------------------------------------------------------------------------------------


async def presence(db: AsyncConnection) -> list[GatewayPresence]:
    rows = (await db.execute(
        select(gateways.c.gateway_id, gateways.c.expires_at, admin_presence.c.admin_id, admin_presence.c.connections)
        .select_from(gateways.join(admin_presence, admin_presence.c.gateway_id == gateways.c.gateway_id))
    )).all()
    by_gateway: dict[str, dict[int, int]] = defaultdict(dict)
    expiry: dict[str, datetime] = {}
    for row in rows:
        by_gateway[row.gateway_id][row.admin_id] = row.connections
        expiry[row.gateway_id] = row.expires_at
    return [GatewayPresence(g, expiry[g], conns) for g, conns in by_gateway.items()]


PRESENCE = GatewayCounts(gateways, admin_presence, "admin_id")
"""The gateways' socket counts per admin (servicekit.gateway_presence): `gateway_seen`, `set_connections`,
`forget_not_in`, `forget_expired`."""


# --- attachments ------------------------------------------------------------------------------------------


async def insert_attachment(db: AsyncConnection, **values: Any) -> AttachmentRow:
    return AttachmentRow.of((await db.execute(attachments.insert().values(**values).returning(attachments))).one())


async def get_attachment(db: AsyncConnection, attachment_id: UUID, *, for_share: bool = False) -> AttachmentRow | None:
    """`for_share`: the row stays until this transaction ends (a message about to reference it; the cleanup of
    unsent pictures skips it, chat_svc.attachment_cleanup)."""
    query = select(attachments).where(attachments.c.id == attachment_id)
    row = (await db.execute(query.with_for_update(read=True) if for_share else query)).first()
    return AttachmentRow.of(row) if row is not None else None


async def attachments_in(db: AsyncConnection, session_id: int, ids: Iterable[UUID]) -> list[AttachmentRow]:
    """The session's attachments among `ids` (one query for a page of messages); others are left out."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return []
    query = select(attachments).where(attachments.c.session_id == session_id, attachments.c.id.in_(wanted))
    return [AttachmentRow.of(row) for row in await db.execute(query)]


async def keep_last_message(db: AsyncConnection, session_id: int, preview: str) -> SessionRow:
    """Put `preview` back as the session's last_message (a notice to the user must not hide their words from the
    admins' lists: chat_svc.left_messages)."""
    return await _update(db, session_id, last_message=preview)
