"""Quick replies: canned answers an agent inserts into the composer (typing `/` in the console), then edits
before sending. `personal` ones belong to one agent (only they see and change them); `team` ones are shared by
every admin and managed by supervisors (403 `supervisors_only` otherwise). Another agent's personal reply reads
as absent (404 `quick_reply_not_found`), never as forbidden: its existence is nobody else's business."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from contracts.fields import Id, MessageText, ShortText
from contracts.identity import Principal
from contracts.time import BeijingDatetime
from pydantic import BaseModel, Field
from servicekit.errors import Conflict, NotFound
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from chat_svc.agents import check_is_admin, check_is_supervisor
from chat_svc.db import quick_replies

if TYPE_CHECKING:
    from chat_svc.service import Chat

QuickReplyScope = Literal["personal", "team"]
Title = Annotated[ShortText, Field(max_length=60, description="Shown in the `/` list and searched")]


class QuickReplyNotFound(NotFound):
    code = "quick_reply_not_found"


class TooManyQuickReplies(Conflict):
    code = "too_many_quick_replies"


class QuickReplyData(BaseModel):
    quick_reply_id: Id
    scope: QuickReplyScope = Field(description="personal: the caller's own; team: shared, supervisors manage it")
    owner_id: Id | None = Field(description="The agent a personal reply belongs to; null for team replies")
    title: str
    content: str = Field(description="Inserted into the composer; the agent may edit it before sending")
    updated_at: BeijingDatetime


class QuickReplyDraft(BaseModel):
    title: Title
    content: MessageText


# --- rules ----------------------------------------------------------------------------------------------------


def check_can_manage(principal: Principal, scope: QuickReplyScope, owner_id: int | None) -> None:
    """Personal: its owner only (another's reads as absent); team: supervisors."""
    check_is_admin(principal)
    if scope == "team":
        check_is_supervisor(principal, "manage team quick replies")
    elif owner_id != principal.user_id:
        raise QuickReplyNotFound("quick reply not found")


def _data(row: Row[tuple[object, ...]]) -> QuickReplyData:
    return QuickReplyData(quick_reply_id=row.id, scope=row.scope, owner_id=row.owner_id, title=row.title,
                          content=row.content, updated_at=row.updated_at)


# --- use cases --------------------------------------------------------------------------------------------------


class QuickReplies:
    def __init__(self, chat: Chat, *, max_per_owner: int) -> None:
        self._chat = chat
        self._max = max_per_owner

    async def visible(self, principal: Principal) -> list[QuickReplyData]:
        """The team's replies, then the caller's own, each by title."""
        check_is_admin(principal)
        async with self._chat.transaction() as tx:
            rows = (await tx.db.execute(
                select(quick_replies)
                .where(or_(quick_replies.c.scope == "team", quick_replies.c.owner_id == principal.user_id))
                .order_by(quick_replies.c.scope.desc(), quick_replies.c.title, quick_replies.c.id))).all()
        return [_data(r) for r in rows]

    async def create(self, principal: Principal, scope: QuickReplyScope, draft: QuickReplyDraft) -> QuickReplyData:
        owner_id = principal.user_id if scope == "personal" else None
        check_can_manage(principal, scope, owner_id)
        async with self._chat.transaction() as tx:
            await tx.db.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"quick_replies:{owner_id}"))))
            if await _count(tx.db, owner_id) >= self._max:
                raise TooManyQuickReplies(f"at most {self._max} {scope} quick replies (CHAT_QUICK_REPLIES_MAX)")
            row = (await tx.db.execute(quick_replies.insert().values(
                scope=scope, owner_id=owner_id, title=draft.title, content=draft.content,
                updated_by=principal.user_id).returning(quick_replies))).one()
        return _data(row)

    async def change(self, principal: Principal, quick_reply_id: int, draft: QuickReplyDraft) -> QuickReplyData:
        async with self._chat.transaction() as tx:
            await self._checked(tx.db, principal, quick_reply_id)
            row = (await tx.db.execute(update(quick_replies).where(quick_replies.c.id == quick_reply_id).values(
                title=draft.title, content=draft.content, updated_by=principal.user_id, updated_at=func.now(),
            ).returning(quick_replies))).one()
        return _data(row)

    async def remove(self, principal: Principal, quick_reply_id: int) -> None:
        async with self._chat.transaction() as tx:
            await self._checked(tx.db, principal, quick_reply_id)
            await tx.db.execute(delete(quick_replies).where(quick_replies.c.id == quick_reply_id))

    @staticmethod
    async def _checked(db: AsyncConnection, principal: Principal, quick_reply_id: int) -> None:
        check_is_admin(principal)
        row = (await db.execute(select(quick_replies.c.scope, quick_replies.c.owner_id)
                                .where(quick_replies.c.id == quick_reply_id).with_for_update())).first()
        if row is None:
            raise QuickReplyNotFound(f"quick reply {quick_reply_id} not found")
        check_can_manage(principal, row.scope, row.owner_id)


async def _count(db: AsyncConnection, owner_id: int | None) -> int:
    owner = quick_replies.c.owner_id.is_(None) if owner_id is None else quick_replies.c.owner_id == owner_id
    return int((await db.execute(select(func.count()).select_from(quick_replies).where(owner))).scalar_one())
