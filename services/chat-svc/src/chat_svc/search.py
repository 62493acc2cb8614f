"""Search for agents: messages (and so sessions) by words, user and Beijing date range, newest first, in cursor
pages; each hit names its session so the console opens it at that message. Any admin may search every session
(admins may read any session); end users get 403. Words match anywhere in a message, case-insensitively for Latin
letters, Chinese without segmentation (`ILIKE '%词%'` per word, all words required), answered from the trigram
index `messages_content_trgm`. System lines (the platform's own wording) are not searched."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from contracts.identity import Principal
from contracts.payloads import ChatMessageData, SessionData
from contracts.time import BEIJING_TZ
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, select

from chat_svc.agents import check_is_admin
from chat_svc.db import messages, sessions
from chat_svc.domain import InvalidInput
from chat_svc.events import message_data, session_data
from chat_svc.rows import MessageRow, SessionRow

if TYPE_CHECKING:
    from chat_svc.service import Chat

MAX_WORDS = 5


class SearchHit(BaseModel):
    message: ChatMessageData
    session: SessionData


class SearchPage(BaseModel):
    items: list[SearchHit] = Field(description="Newest message first")
    has_more: bool
    next_before: int | None = Field(description="Pass as `before` (a message id) for the next, older page")


class SearchQuery(BaseModel):
    words: list[str]
    user_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    before: int | None = None
    limit: int = 20


def parse_words(q: str | None) -> list[str]:
    """White space separates words; at most MAX_WORDS (422 beyond)."""
    words = list(dict.fromkeys((q or "").split()))
    if len(words) > MAX_WORDS:
        raise InvalidInput("q", f"at most {MAX_WORDS} words")
    return words


def beijing_day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=BEIJING_TZ)


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def conditions(query: SearchQuery) -> list[ColumnElement[bool]]:
    """The WHERE of a search (422 when it asks for nothing, or for an empty date range)."""
    if not query.words and query.user_id is None:
        raise InvalidInput("q", "give words to search for, or a user_id")
    if query.date_from and query.date_to and query.date_from > query.date_to:
        raise InvalidInput("date_to", "the range ends before it starts")
    found: list[ColumnElement[bool]] = [messages.c.sender_type != "system"]
    found += [messages.c.content.ilike(_like(w), escape="\\") for w in query.words]
    if query.user_id is not None:
        found.append(sessions.c.user_id == query.user_id)
    if query.date_from is not None:
        found.append(messages.c.created_at >= beijing_day_start(query.date_from))
    if query.date_to is not None:
        found.append(messages.c.created_at < beijing_day_start(query.date_to + timedelta(days=1)))
    if query.before is not None:
        found.append(messages.c.id < query.before)
    return found


class Search:
    def __init__(self, chat: Chat) -> None:
        self._chat = chat

    async def messages(self, principal: Principal, query: SearchQuery) -> SearchPage:
        check_is_admin(principal)
        where = conditions(query)
        statement = (select(messages, *[c.label(f"s_{c.name}") for c in sessions.columns])
                     .join(sessions, sessions.c.id == messages.c.session_id)
                     .where(*where).order_by(messages.c.id.desc()).limit(query.limit + 1))
        async with self._chat.transaction() as tx:
            rows = (await tx.db.execute(statement)).all()
        has_more = len(rows) > query.limit
        hits = []
        for row in rows[:query.limit]:
            values = row._mapping
            message = MessageRow(**{c.name: values[c] for c in messages.columns})
            session = SessionRow(**{c.name: values[f"s_{c.name}"] for c in sessions.columns})
            hits.append(SearchHit(message=message_data(message), session=session_data(session)))
        return SearchPage(items=hits, has_more=has_more, next_before=hits[-1].message.message_id if has_more else None)
