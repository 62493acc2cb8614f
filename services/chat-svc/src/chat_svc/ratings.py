"""Satisfaction: the user of a closed session rates it (score 1-5, optional comment), once per session, and may
change it for CHAT_RATING_EDIT_SECONDS after the first rating; any admin reads it. Rules first (no I/O), then the
use cases over `chat.ratings` (one row per session).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated

from contracts.fields import Id
from contracts.identity import Principal
from contracts.time import BeijingDatetime
from pydantic import BaseModel, Field
from servicekit.db import AnyRow
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from chat_svc import store
from chat_svc.db import ratings
from chat_svc.domain import Conflict, Forbidden, InvalidInput, NotFound, SessionRef

if TYPE_CHECKING:
    from chat_svc.service import Chat

Score = Annotated[int, Field(ge=1, le=5, strict=True)]


class SessionNotClosed(Conflict):
    code = "session_not_closed"


class RatingLocked(Conflict):
    code = "rating_locked"


class NotRated(NotFound):
    code = "not_rated"


class RatingData(BaseModel):
    session_id: Id
    score: Score = Field(description="1 (very dissatisfied) to 5 (very satisfied)")
    comment: str | None = Field(description="What the user wrote, or null")
    created_at: BeijingDatetime = Field(description="When the user first rated the session")
    updated_at: BeijingDatetime = Field(description="When the rating was last changed")
    editable_until: BeijingDatetime = Field(description="The user may change it until then (CHAT_RATING_EDIT_SECONDS)")


@dataclass(frozen=True)
class RatingRules:
    edit_seconds: int
    comment_max_chars: int


# --- rules ----------------------------------------------------------------------------------------------------


def check_can_rate(principal: Principal, session: SessionRef) -> None:
    """Only the session's own user, and only once it is closed."""
    if principal.is_admin or session.user_id != principal.user_id:
        raise Forbidden("forbidden: not your session")
    if session.status != "closed":
        raise SessionNotClosed(f"session {session.session_id} is {session.status}: rate it once it is closed")


def check_can_edit(first_rated_at: datetime, now: datetime, edit_seconds: int) -> None:
    until = first_rated_at + timedelta(seconds=edit_seconds)
    if now > until:
        raise RatingLocked(f"the rating can no longer be changed: it was editable for {edit_seconds} s")


def clean_comment(comment: str | None, max_chars: int) -> str | None:
    """Blank means none; longer than `max_chars` code points is refused (422)."""
    if comment is None or not comment.strip():
        return None
    if len(comment) > max_chars:
        raise InvalidInput("comment", f"at most {max_chars} characters", where="body")
    return comment.strip()


# --- use cases --------------------------------------------------------------------------------------------------


class Ratings:
    def __init__(self, chat: Chat, rules: RatingRules) -> None:
        self._chat = chat
        self._rules = rules

    def _data(self, row: AnyRow) -> RatingData:
        return RatingData(session_id=row.session_id, score=row.score, comment=row.comment, created_at=row.created_at,
                          updated_at=row.updated_at,
                          editable_until=row.created_at + timedelta(seconds=self._rules.edit_seconds))

    async def rate(self, principal: Principal, session_id: int, score: int, comment: str | None) -> RatingData:
        """The first rating, or a change within the edit window (409 `rating_locked` after it)."""
        comment = clean_comment(comment, self._rules.comment_max_chars)
        async with self._chat.transaction() as tx:
            session = await store.get_session(tx.db, session_id)
            if session is None:
                raise NotFound(f"session {session_id} not found")
            check_can_rate(principal, store.ref(session))
            now = (await tx.db.execute(select(func.now()))).scalar_one()
            found = (await tx.db.execute(
                select(ratings).where(ratings.c.session_id == session_id).with_for_update())).first()
            if found is not None:
                check_can_edit(found.created_at, now, self._rules.edit_seconds)
            statement = insert(ratings).values(session_id=session_id, user_id=principal.user_id, score=score,
                                               comment=comment)
            row = (await tx.db.execute(statement.on_conflict_do_update(
                index_elements=[ratings.c.session_id], set_={"score": score, "comment": comment, "updated_at": now},
            ).returning(ratings))).one()
            return self._data(row)

    async def get(self, principal: Principal, session_id: int) -> RatingData:
        """The session's user or any admin (the same rule as reading the session); 404 `not_rated` when none."""
        async with self._chat.transaction() as tx:
            session = await store.get_session(tx.db, session_id)
            if session is None:
                raise NotFound(f"session {session_id} not found")
            if not principal.is_admin and session.user_id != principal.user_id:
                raise Forbidden("forbidden: not your session")
            row = (await tx.db.execute(select(ratings).where(ratings.c.session_id == session_id))).first()
        if row is None:
            raise NotRated(f"session {session_id} has no rating")
        return self._data(row)
