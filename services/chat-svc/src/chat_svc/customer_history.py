"""The customer panel beside a conversation: who the user is to customer service (tier, first contact, how many
sessions) and their sessions with messages, newest first, in cursor pages (`before`: a session id; pass the open
session's id to get only the earlier ones). Admins only, like every read of another person's sessions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from contracts.fields import Count, Id
from contracts.identity import Principal
from contracts.payloads import ChatMessageData, SessionData
from contracts.time import BeijingDatetime
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from chat_svc.agents import check_is_admin
from chat_svc.customers import Tier, tier_of
from chat_svc.db import messages, sessions
from chat_svc.events import message_data, session_data
from chat_svc.rows import MessageRow, SessionRow

if TYPE_CHECKING:
    from chat_svc.service import Chat


class CustomerSummary(BaseModel):
    user_id: Id
    tier: Tier
    first_contact_at: BeijingDatetime | None = Field(description="When their first session opened (null: never)")
    sessions_count: Count = Field(description="Every session they opened, this one included")


class PastSession(BaseModel):
    session: SessionData
    messages: list[ChatMessageData] = Field(description="Its newest messages, oldest first")
    more_messages: bool = Field(description="Older messages exist: GET /sessions/{id}/messages pages back")


class PastSessionPage(BaseModel):
    items: list[PastSession] = Field(description="Newest session first")
    has_more: bool
    next_before: int | None = Field(description="Pass as `before` for the next (older) page")


class CustomerHistory:
    def __init__(self, chat: Chat, *, messages_per_session: int) -> None:
        self._chat = chat
        self._per_session = messages_per_session

    async def summary(self, principal: Principal, user_id: int) -> CustomerSummary:
        check_is_admin(principal)
        async with self._chat.transaction() as tx:
            first, count = (await tx.db.execute(
                select(func.min(sessions.c.created_at), func.count()).where(sessions.c.user_id == user_id))).one()
            tier = await tier_of(tx.db, user_id)
        return CustomerSummary(user_id=user_id, tier=tier, first_contact_at=first, sessions_count=count)

    async def sessions(self, principal: Principal, user_id: int, *, before: int | None, limit: int) -> PastSessionPage:
        """Reads the `sessions_by_user` index (user_id, id) backwards from `before`."""
        check_is_admin(principal)
        query = select(sessions).where(sessions.c.user_id == user_id)
        if before is not None:
            query = query.where(sessions.c.id < before)
        async with self._chat.transaction() as tx:
            rows = [SessionRow.of(r) for r in (await tx.db.execute(
                query.order_by(sessions.c.id.desc()).limit(limit + 1))).all()]
            has_more = len(rows) > limit
            rows = rows[:limit]
            by_session = await self._newest_messages(tx.db, [r.id for r in rows])
        items = []
        for row in rows:
            found = by_session.get(row.id, [])
            items.append(PastSession(session=session_data(row), more_messages=len(found) > self._per_session,
                                     messages=[message_data(m) for m in reversed(found[:self._per_session])]))
        return PastSessionPage(items=items, has_more=has_more, next_before=rows[-1].id if has_more else None)

    async def _newest_messages(self, db: AsyncConnection, session_ids: list[int]) -> dict[int, list[MessageRow]]:
        """Per session, its newest `per_session + 1` messages, newest first (one query, `messages_by_session`)."""
        if not session_ids:
            return {}
        ranked = select(messages, func.row_number().over(
            partition_by=messages.c.session_id, order_by=messages.c.id.desc()).label("rank")
        ).where(messages.c.session_id.in_(session_ids)).subquery()
        query = (select(*[ranked.c[c.name] for c in messages.columns])
                 .where(ranked.c.rank <= self._per_session + 1).order_by(ranked.c.session_id, ranked.c.id.desc()))
        found: dict[int, list[MessageRow]] = {}
        for r in (await db.execute(query)).all():
            found.setdefault(r.session_id, []).append(MessageRow.of(r))
        return found
