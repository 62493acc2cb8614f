"""Group commit of the socket command `chat.send_message`: the messages that arrive while a transaction runs go
together into the next one, written with a handful of set-based statements on the raw asyncpg connection.

Per batch, whatever its size: BEGIN; the sessions `FOR UPDATE` (in id order); one INSERT of the messages; one
UPDATE of their sessions (last message, unread count, report figures); at most three statements for the reply
deadlines; one INSERT of every event into the outbox (with its NOTIFY); one read and one INSERT of the commands'
answers (`chat.idempotency_keys`, keyed by command id: a command delivered again gets its first answer); COMMIT. The rules are the single use
case's (`Chat.send_message`): who may post (`domain.check_can_post`, checked per message: a refused message is
refused alone, the others commit), the reply deadlines (`chat_svc.reply_deadlines`), the events: every message its
`chat.message_created` in order, each session one `chat.session_updated` last, with its final state. Any other
failure (the database gone, a deadlock) fails the whole batch: nothing of it committed, each command is retried.

One batch runs at a time, taking the waiting messages in their arrival order: a session's messages are written in
the order this process received them. Picture messages go through `Chat.send_message` one by one, in their place
in that order. `max_batch` 1 writes every message in its own transaction (the same statements).
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
from collections import deque
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from contracts.events.payloads import ChatMessageCreated, ChatSessionUpdated
from contracts.events.registry import CHAT_MESSAGE_CREATED, CHAT_SESSION_UPDATED, new_envelope
from contracts.identity import Principal
from servicekit.errors import DomainError
from servicekit.idempotency import fingerprint
from servicekit.logcontext import bind, request_id
from servicekit.outbox_batch import enqueue_many
from sqlalchemy.ext.asyncio import AsyncEngine

from chat_svc import domain, store
from chat_svc.db import SCHEMA
from chat_svc.domain import MAX_DB_ID, NotFound
from chat_svc.events import message_data, session_data
from chat_svc.rows import MessageRow, SessionRow
from chat_svc.service import Chat

log = logging.getLogger(__name__)

PRODUCER = "chat-svc"

_SESSION_FIELDS = [f.name for f in fields(SessionRow)]
_SESSION_COLUMNS = ", ".join(_SESSION_FIELDS)
_LOCK_SESSIONS = f"SELECT {_SESSION_COLUMNS} FROM {SCHEMA}.sessions WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE"
_INSERT_MESSAGES = (
    f"INSERT INTO {SCHEMA}.messages (session_id, sender_type, sender_id, content, message_type) "
    "SELECT session_id, sender_type, sender_id, content, message_type FROM unnest($1::bigint[], $2::text[], "
    "$3::bigint[], $4::text[], $5::text[]) WITH ORDINALITY AS m(session_id, sender_type, sender_id, content, "
    "message_type, n) ORDER BY n RETURNING id, session_id, sender_type, sender_id, content, message_type, created_at"
)
_UPDATE_SESSIONS = (
    f"UPDATE {SCHEMA}.sessions AS s SET last_message = v.last_message, updated_at = v.at, "
    "admin_unread_count = s.admin_unread_count + v.unread, message_count = s.message_count + v.said, "
    "first_reply_at = coalesce(s.first_reply_at, v.first_reply) "
    "FROM unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::int[], $5::int[], $6::timestamptz[]) "
    "AS v(id, last_message, at, unread, said, first_reply) WHERE s.id = v.id "
    f"RETURNING {', '.join('s.' + c for c in _SESSION_FIELDS)}"
)
_ANSWERED = f"DELETE FROM {SCHEMA}.reply_deadlines WHERE session_id = ANY($1::bigint[])"
_USER_WROTE = (
    f"INSERT INTO {SCHEMA}.reply_deadlines AS d (session_id, admin_id, since) "
    "SELECT session_id, admin_id, $3 FROM unnest($1::bigint[], $2::bigint[]) AS v(session_id, admin_id) "
    "ON CONFLICT (session_id) DO UPDATE SET admin_id = excluded.admin_id, since = excluded.since, reminded_at = NULL, "
    "escalated_at = NULL"
)
_USER_WROTE_UNLESS_WAITING = _USER_WROTE + " WHERE d.admin_id <> excluded.admin_id"
_ANSWERED_BEFORE = (
    f"SELECT user_id, key, body::text AS body FROM {SCHEMA}.idempotency_keys "
    "WHERE (user_id, key) IN (SELECT * FROM unnest($1::bigint[], $2::text[]))"
)
_REMEMBER = (
    f"INSERT INTO {SCHEMA}.idempotency_keys (user_id, key, fingerprint, status, body) "
    "SELECT user_id, key, fingerprint, 201, body::jsonb FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) "
    "AS v(user_id, key, fingerprint, body)"
)
COMMAND_KEY_PREFIX = "command:"
"""A command's answer is kept in `chat.idempotency_keys` under this prefix and its command id (pruned like every
key, `CHAT_IDEMPOTENCY_KEY_HOURS`): a command delivered again (chat-svc died after the commit, before the ack)
is answered with the first answer instead of storing the message twice."""


@dataclass(eq=False)
class Pending:
    """One `chat.send_message` waiting for its batch."""

    principal: Principal
    session_id: int
    content: str
    message_type: str
    correlation_id: str | None
    request_id: str | None
    done: asyncio.Future[dict[str, Any]] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class MessageBatcher:
    def __init__(self, chat: Chat, engine: AsyncEngine, *, max_batch: int) -> None:
        self._chat = chat
        self._engine = engine
        self._max_batch = max_batch
        self._waiting: deque[Pending] = deque()
        self._worker: asyncio.Task[None] | None = None
        self.batches = 0
        self.messages = 0

    async def send(self, principal: Principal, session_id: int, content: str, message_type: str = "text", *,
                   correlation_id: str | None = None) -> dict[str, Any]:
        """What `Chat.send_message` returns (ChatMessageData as JSON), or raises what it raises."""
        pending = Pending(principal, session_id, content, message_type, correlation_id, request_id())
        self._waiting.append(pending)
        if self._worker is None or self._worker.done():
            # A context of its own: the batches serve many commands, each logs and publishes under its own ids.
            self._worker = asyncio.create_task(self._drain(), name="chat-message-batches",
                                               context=contextvars.Context())
        return await asyncio.shield(pending.done)

    async def _drain(self) -> None:
        while self._waiting:
            batch: list[Pending] = []
            while self._waiting and len(batch) < self._max_batch and self._waiting[0].message_type == "text":
                batch.append(self._waiting.popleft())
            if not batch:  # a picture: the single use case, in its place
                one = self._waiting.popleft()
                with bind(request_id=one.request_id):
                    await _settle(one, self._chat.send_message(one.principal, one.session_id, one.content,
                                                               one.message_type, correlation_id=one.correlation_id))
                continue
            try:
                await self._commit(batch)
            except Exception as exc:  # noqa: BLE001 - every command of the batch fails (and is retried) alike
                log.warning("a batch of %d messages failed: %r", len(batch), exc)
                for p in batch:
                    if not p.done.done():
                        p.done.set_exception(exc)

    async def _commit(self, batch: list[Pending]) -> None:
        async with self._engine.connect() as sa:
            conn = (await sa.get_raw_connection()).driver_connection
            assert conn is not None
            async with conn.transaction():
                repeated = await self._answered_before(conn, batch)
                batch = [p for p in batch if p not in repeated]
                ids = sorted({p.session_id for p in batch if 0 < p.session_id <= MAX_DB_ID})
                sessions = {r["id"]: SessionRow(**r) for r in await conn.fetch(_LOCK_SESSIONS, ids)}
                accepted: list[Pending] = []
                refused: list[tuple[Pending, DomainError]] = []
                for p in batch:
                    row = sessions.get(p.session_id)
                    try:
                        if row is None:
                            raise NotFound(f"session {p.session_id} not found")
                        domain.check_can_post(p.principal, store.ref(row))
                    except DomainError as exc:
                        refused.append((p, exc))
                    else:
                        accepted.append(p)
                messages = await self._insert(conn, accepted)
                updated = await self._update_sessions(conn, messages)
                await self._reply_deadlines(conn, messages, updated)
                envelopes = [
                    new_envelope(CHAT_MESSAGE_CREATED, PRODUCER, ChatMessageCreated(
                        message=message_data(m), user_id=updated[m.session_id].user_id,
                        admin_id=updated[m.session_id].admin_id,
                    ), m.session_id, correlation_id=p.correlation_id).model_copy(update={"request_id": p.request_id})
                    for p, m in zip(accepted, messages, strict=True)
                ]
                last = {p.session_id: p for p in accepted}
                envelopes += [
                    new_envelope(CHAT_SESSION_UPDATED, PRODUCER, ChatSessionUpdated(session=session_data(row)), sid,
                                 correlation_id=last[sid].correlation_id)
                    .model_copy(update={"request_id": last[sid].request_id})
                    for sid, row in updated.items()
                ]
                await enqueue_many(conn, SCHEMA, envelopes)
                answers = [message_data(m).model_dump(mode="json") for m in messages]
                await self._remember(conn, accepted, answers)
        self.batches += 1
        self.messages += len(accepted)
        for p, answer in zip(accepted, answers, strict=True):
            p.done.set_result(answer)
        for p, answer in repeated.items():
            p.done.set_result(answer)
        for p, refusal in refused:
            p.done.set_exception(refusal)

    @staticmethod
    async def _answered_before(conn: Any, batch: list[Pending]) -> dict[Pending, dict[str, Any]]:
        """The commands of the batch already carried out (delivered again): their first answers."""
        keyed = [p for p in batch if p.correlation_id is not None]
        if not keyed:
            return {}
        rows = await conn.fetch(_ANSWERED_BEFORE, [p.principal.user_id for p in keyed],
                                [COMMAND_KEY_PREFIX + str(p.correlation_id) for p in keyed])
        stored = {(r["user_id"], r["key"]): r["body"] for r in rows}
        found = {p: stored.get((p.principal.user_id, COMMAND_KEY_PREFIX + str(p.correlation_id))) for p in keyed}
        return {p: json.loads(body) for p, body in found.items() if body is not None}

    @staticmethod
    async def _remember(conn: Any, accepted: list[Pending], answers: list[dict[str, Any]]) -> None:
        keyed = [(p, a) for p, a in zip(accepted, answers, strict=True) if p.correlation_id is not None]
        if keyed:
            await conn.execute(
                _REMEMBER, [p.principal.user_id for p, _ in keyed],
                [COMMAND_KEY_PREFIX + str(p.correlation_id) for p, _ in keyed],
                [fingerprint("send_message", {"session_id": p.session_id, "content": p.content,
                                              "message_type": p.message_type}) for p, _ in keyed],
                [json.dumps(a) for _, a in keyed],
            )

    @staticmethod
    async def _insert(conn: Any, accepted: list[Pending]) -> list[MessageRow]:
        if not accepted:
            return []
        rows = await conn.fetch(
            _INSERT_MESSAGES, [p.session_id for p in accepted],
            ["admin" if p.principal.is_admin else "user" for p in accepted],
            [p.principal.user_id for p in accepted], [p.content for p in accepted], [p.message_type for p in accepted],
        )
        messages = sorted((MessageRow(**r) for r in rows), key=lambda m: m.id)
        if [(m.session_id, m.content) for m in messages] != [(p.session_id, p.content) for p in accepted]:
            raise RuntimeError("the messages' ids do not follow their order in the batch")  # retried as a whole
        return messages

    @staticmethod
    async def _update_sessions(conn: Any, messages: list[MessageRow]) -> dict[int, SessionRow]:
        """Each session once, with the effect of all its messages of the batch, in order (store.add_message)."""
        figures: dict[int, dict[str, Any]] = {}
        for m in messages:
            f = figures.setdefault(m.session_id, {"unread": 0, "said": 0, "first_reply": None})
            f["last"], f["at"] = m.content, m.created_at
            f["unread"] += m.sender_type == "user"
            f["said"] += 1
            if m.sender_type == "admin" and f["first_reply"] is None:
                f["first_reply"] = m.created_at
        if not figures:
            return {}
        ids = list(figures)
        rows = await conn.fetch(
            _UPDATE_SESSIONS, ids, [figures[i]["last"] for i in ids], [figures[i]["at"] for i in ids],
            [figures[i]["unread"] for i in ids], [figures[i]["said"] for i in ids],
            [figures[i]["first_reply"] for i in ids],
        )
        by_id = {r["id"]: SessionRow(**r) for r in rows}
        return {i: by_id[i] for i in ids}  # in the order of their first message

    async def _reply_deadlines(self, conn: Any, messages: list[MessageRow], sessions: dict[int, SessionRow]) -> None:
        """The net effect of `Chat._note_reply_state` over each session's messages of the batch: the agent's last
        word ends the wait; the user's starts it now if the agent spoke earlier in the batch (the wait was ended),
        else only unless one already runs for that agent."""
        said: dict[int, list[str]] = {}
        for m in messages:
            said.setdefault(m.session_id, []).append(m.sender_type)
        answered, restart, wrote = [], [], []
        for sid, senders in said.items():
            row = sessions[sid]
            if row.status != "active" or row.admin_id is None:
                continue
            if senders[-1] == "admin":
                answered.append(sid)
            elif "admin" in senders:
                restart.append(sid)
            else:
                wrote.append(sid)
        now: datetime = self._chat.clock()
        if answered:
            await conn.execute(_ANSWERED, answered)
        for statement, sids in ((_USER_WROTE, restart), (_USER_WROTE_UNLESS_WAITING, wrote)):
            if sids:
                await conn.execute(statement, sids, [sessions[s].admin_id for s in sids], now)


async def _settle(pending: Pending, work: Any) -> None:
    try:
        pending.done.set_result(await work)
    except Exception as exc:  # noqa: BLE001 - handed to the command's own task, which answers or retries it
        pending.done.set_exception(exc)
