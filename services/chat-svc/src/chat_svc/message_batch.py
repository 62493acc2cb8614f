"""Group commit of the socket command `chat.send_message`: the messages that arrive while a batch is written go
together into the next one, on a connection of its own (raw asyncpg, opened on first use, dropped when it fails).

Two round trips per batch, whatever its size. A read (no transaction, no lock): the commands of the batch already
answered (`chat.idempotency_keys`, keyed by command id: a command delivered again gets its first answer), the sessions
with their row versions (`xmin`), the database's time and one new message id per message. Then the rules, here, on
those rows: who may post (`domain.check_can_post`, per message: a refused message is refused alone, the others
commit), the sessions' new figures, the reply deadlines (`chat_svc.reply_deadlines`), the events (every message its
`chat.message_created` in order, the last of each session carrying the session's final state: only messages changed
it; with `CHAT_SESSION_STATE_IN_MESSAGE_EVENTS` off, each session one `chat.session_updated` last instead) and the
answers.
Then one write, `chat.commit_message_batch` (migration 0016), in its own transaction: it locks the sessions, and
only if each is still the version the rules were checked on does it write the messages, the sessions, the deadlines,
the outbox (with its NOTIFY) and the answers; otherwise it writes nothing and the batch starts again from the read
(the rules checked again on what changed). A message's id and time are the read's, never reused: a session changed
since (another message among them) makes the batch read again, so a session's ids follow its commits. Any other
failure (the database gone, a deadlock, a command answered meanwhile by another process) fails the whole batch:
nothing of it committed, each command is retried.

One batch runs at a time, taking the waiting messages in their arrival order: a session's messages are written in
the order this process received them. Picture messages go through `Chat.send_message` one by one, in their place
in that order. `max_batch` 1 writes every message in its own transaction (the same statements).
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import json
import logging
from collections import deque
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

import asyncpg
from contracts.events.payloads import ChatMessageCreated, ChatSessionUpdated
from contracts.events.registry import CHAT_MESSAGE_CREATED, CHAT_SESSION_UPDATED, new_envelope
from contracts.identity import Principal
from servicekit.db import IDLE_IN_TRANSACTION_MS
from servicekit.errors import DomainError
from servicekit.idempotency import IdempotencyKeyReused, fingerprint
from servicekit.logcontext import bind, request_id
from servicekit.outbox import asyncpg_dsn, notify_channel
from servicekit.outbox_batch import outbox_rows
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
_READ = (
    "SELECT h.now, h.ids, a.users AS answered_users, a.keys AS answered_keys, a.bodies AS answered_bodies, "
    "a.fingerprints AS answered_fingerprints, "
    "s.xmin::text AS version, " + ", ".join("s." + c for c in _SESSION_FIELDS) + " "
    f"FROM (SELECT now() AS now, ARRAY(SELECT nextval('{SCHEMA}.messages_id_seq') "
    "FROM generate_series(1, $4::int)) AS ids) AS h "
    "CROSS JOIN (SELECT array_agg(k.user_id) AS users, array_agg(k.key) AS keys, array_agg(k.body::text) AS bodies, "
    "array_agg(k.fingerprint) AS fingerprints "
    f"FROM {SCHEMA}.idempotency_keys AS k "
    "WHERE (k.user_id, k.key) IN (SELECT * FROM unnest($1::bigint[], $2::text[]))) AS a "
    f"LEFT JOIN {SCHEMA}.sessions AS s ON s.id = ANY($3::bigint[])"
)
_WRITE = f"SELECT {SCHEMA}.commit_message_batch({', '.join(f'${i}' for i in range(1, 32))})"
MAX_ATTEMPTS = 5
"""Reads and writes of one batch before it fails as a whole (its commands retried): each new attempt means one of
its sessions changed between the read and the write."""
COMMAND_KEY_PREFIX = "command:"
"""A command's answer is kept in `chat.idempotency_keys` under this prefix and its command id (pruned like every
key, `CHAT_IDEMPOTENCY_KEY_HOURS`): a command delivered again (chat-svc died after the commit, before the ack)
is answered with the first answer instead of storing the message twice. A command with the sender's own id
(`client_msg_id`) is kept under that id instead, the key of the REST send's `Idempotency-Key`: a message sent again
(over the socket or REST) is answered with the first answer; with another session, content or type it is refused
(`idempotency_key_reused`)."""


@dataclass(eq=False)
class Pending:
    """One `chat.send_message` waiting for its batch."""

    principal: Principal
    session_id: int
    content: str
    message_type: str
    correlation_id: str | None
    request_id: str | None
    idempotency_key: str | None = None
    """The sender's own key (`client_msg_id`), else the command's (`COMMAND_KEY_PREFIX` + its id)."""
    done: asyncio.Future[dict[str, Any]] = field(default_factory=lambda: asyncio.get_running_loop().create_future())

    @property
    def key(self) -> tuple[int, str] | None:
        """Its row in `chat.idempotency_keys`, if it is a command."""
        if self.idempotency_key is not None:
            return self.principal.user_id, self.idempotency_key
        if self.correlation_id is None:
            return None
        return self.principal.user_id, COMMAND_KEY_PREFIX + self.correlation_id

    @property
    def fingerprint(self) -> str:
        """What makes a message sent again "the same" (the REST send's `Chat.send_message` computes the same)."""
        return fingerprint("send_message", {"session_id": self.session_id, "content": self.content,
                                            "message_type": self.message_type})


@dataclass
class _Read:
    """What one read of a batch found."""

    now: datetime
    ids: list[int]
    answered: dict[tuple[int, str], tuple[str, dict[str, Any]]]  # key -> (its fingerprint, its answer)
    sessions: dict[int, tuple[SessionRow, str]]  # id -> (row, its version)


@dataclass
class _Plan:
    """A batch's outcome as its write will store it, if its sessions are still the versions read."""

    answers: dict[Pending, dict[str, Any]] = field(default_factory=dict)
    refused: list[tuple[Pending, DomainError]] = field(default_factory=list)
    accepted: list[Pending] = field(default_factory=list)
    arguments: tuple[Any, ...] = ()


class MessageBatcher:
    def __init__(self, chat: Chat, engine: AsyncEngine, *, max_batch: int, session_in_messages: bool = True) -> None:
        self._chat = chat
        self._session_in_messages = session_in_messages
        self._dsn = asyncpg_dsn(engine.url.render_as_string(hide_password=False))
        self._max_batch = max_batch
        self._waiting: deque[Pending] = deque()
        self._worker: asyncio.Task[None] | None = None
        self._conn: asyncpg.Connection | None = None
        self.batches = 0
        self.messages = 0
        self.rereads = 0
        """Reads again because a session changed between a batch's read and its write."""

    async def send(self, principal: Principal, session_id: int, content: str, message_type: str = "text", *,
                   correlation_id: str | None = None, idempotency_key: str | None = None) -> dict[str, Any]:
        """What `Chat.send_message` returns (ChatMessageData as JSON), or raises what it raises."""
        pending = Pending(principal, session_id, content, message_type, correlation_id, request_id(),
                          idempotency_key)
        self._waiting.append(pending)
        if self._worker is None or self._worker.done():
            # A context of its own: the batches serve many commands, each logs and publishes under its own ids.
            self._worker = asyncio.create_task(self._drain(), name="chat-message-batches",
                                               context=contextvars.Context())
        return await asyncio.shield(pending.done)

    async def close(self) -> None:
        """Close the batches' connection (the app's shutdown; a later batch would open another)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close(timeout=2)

    async def _drain(self) -> None:
        while self._waiting:
            batch: list[Pending] = []
            while self._waiting and len(batch) < self._max_batch and self._waiting[0].message_type == "text":
                batch.append(self._waiting.popleft())
            if not batch:  # a picture: the single use case, in its place
                one = self._waiting.popleft()
                with bind(request_id=one.request_id):
                    await _settle(one, self._chat.send_message(
                        one.principal, one.session_id, one.content, one.message_type,
                        correlation_id=one.correlation_id, idempotency_key=one.key[1] if one.key else None))
                continue
            try:
                await self._commit(batch)
            except Exception as exc:  # noqa: BLE001 - every command of the batch fails (and is retried) alike
                log.warning("a batch of %d messages failed: %r", len(batch), exc)
                for p in batch:
                    if not p.done.done():
                        p.done.set_exception(exc)

    async def _connection(self) -> asyncpg.Connection:
        if self._conn is None or self._conn.is_closed():
            self._conn = await asyncpg.connect(self._dsn, timeout=10, server_settings={
                "idle_in_transaction_session_timeout": str(IDLE_IN_TRANSACTION_MS),
                "application_name": "chat-svc message batches"})
        return self._conn

    async def _commit(self, batch: list[Pending]) -> None:
        first: dict[tuple[int, str], Pending] = {}
        again: list[tuple[Pending, Pending]] = []  # the same command twice in one batch: the later one waits
        for p in batch:
            if p.key is not None and p.key in first:
                again.append((p, first[p.key]))
            elif p.key is not None:
                first[p.key] = p
        batch = [p for p in batch if all(p is not later for later, _ in again)]
        conn = await self._connection()
        try:
            for attempt in range(MAX_ATTEMPTS):
                plan = self._plan(batch, await self._read(conn, batch))
                if not plan.arguments or not await conn.fetchval(_WRITE, *plan.arguments):
                    break
                self.rereads += 1
            else:
                raise RuntimeError(f"the sessions of a batch kept changing ({attempt + 1} attempts)")
        except (OSError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError):
            self._conn = None
            conn.terminate()
            raise
        self.batches += 1
        self.messages += len(plan.accepted)
        for p, answer in plan.answers.items():
            p.done.set_result(answer)
        for p, refusal in plan.refused:
            p.done.set_exception(refusal)
        for later, earlier in again:
            _follow(later, earlier)

    @staticmethod
    async def _read(conn: asyncpg.Connection, batch: list[Pending]) -> _Read:
        keys = [k for k in (p.key for p in batch) if k is not None]
        ids = sorted({p.session_id for p in batch if 0 < p.session_id <= MAX_DB_ID})
        rows = await conn.fetch(_READ, [u for u, _ in keys], [k for _, k in keys], ids, len(batch))
        head = rows[0]
        answered = {(u, k): (f, json.loads(b)) for u, k, b, f in zip(
            head["answered_users"] or (), head["answered_keys"] or (), head["answered_bodies"] or (),
            head["answered_fingerprints"] or (), strict=True)}
        sessions = {r["id"]: (SessionRow(*(r[c] for c in _SESSION_FIELDS)), r["version"])
                    for r in rows if r["id"] is not None}
        return _Read(head["now"], sorted(head["ids"]), answered, sessions)

    def _plan(self, batch: list[Pending], read: _Read) -> _Plan:
        plan = _Plan()
        for p in batch:
            if p.key is not None and p.key in read.answered:
                stored_fingerprint, answer = read.answered[p.key]
                if stored_fingerprint == p.fingerprint:
                    plan.answers[p] = answer
                else:
                    plan.refused.append((p, IdempotencyKeyReused()))
                continue
            found = read.sessions.get(p.session_id)
            try:
                if found is None:
                    raise NotFound(f"session {p.session_id} not found")
                domain.check_can_post(p.principal, store.ref(found[0]))
            except DomainError as exc:
                plan.refused.append((p, exc))
            else:
                plan.accepted.append(p)
        if not plan.accepted:
            return plan
        messages = [MessageRow(id=i, session_id=p.session_id, sender_type="admin" if p.principal.is_admin else "user",
                               sender_id=p.principal.user_id, content=p.content, message_type="text",
                               created_at=read.now) for i, p in zip(read.ids, plan.accepted, strict=False)]
        updated = _updated_sessions({sid: row for sid, (row, _) in read.sessions.items()}, messages, read.now)
        deadlines = _reply_deadlines(messages, updated)
        last = {p.session_id: p for p in plan.accepted}
        carries = {last[sid]: session_data(row) for sid, row in updated.items()} if self._session_in_messages else {}
        envelopes = [
            new_envelope(CHAT_MESSAGE_CREATED, PRODUCER, ChatMessageCreated(
                message=message_data(m), user_id=updated[m.session_id].user_id,
                admin_id=updated[m.session_id].admin_id, session=carries.get(p),
            ), m.session_id, correlation_id=p.correlation_id).model_copy(update={"request_id": p.request_id})
            for p, m in zip(plan.accepted, messages, strict=True)
        ]
        envelopes += [
            new_envelope(CHAT_SESSION_UPDATED, PRODUCER, ChatSessionUpdated(session=session_data(row)), sid,
                         correlation_id=last[sid].correlation_id)
            .model_copy(update={"request_id": last[sid].request_id})
            for sid, row in updated.items() if not carries
        ]
        answers = [envelope.payload["message"] for envelope in envelopes[:len(messages)]]
        plan.answers.update(zip(plan.accepted, answers, strict=True))
        keyed = [(p, a) for p, a in zip(plan.accepted, answers, strict=True) if p.key is not None]
        plan.arguments = (
            list(updated), [read.sessions[sid][1] for sid in updated],
            [m.id for m in messages], [m.session_id for m in messages], [m.sender_type for m in messages],
            [m.sender_id for m in messages], [m.content for m in messages], [m.message_type for m in messages],
            read.now,
            list(updated), [r.last_message for r in updated.values()],
            [r.admin_unread_count for r in updated.values()], [r.message_count for r in updated.values()],
            [r.first_reply_at for r in updated.values()],
            *deadlines, self._chat.clock(),
            *outbox_rows(envelopes), notify_channel(SCHEMA),
            [p.principal.user_id for p, _ in keyed], [p.key[1] for p, _ in keyed if p.key is not None],
            [p.fingerprint for p, _ in keyed],
            [json.dumps(a) for _, a in keyed],
        )
        return plan


def _updated_sessions(sessions: dict[int, SessionRow], messages: list[MessageRow],
                      now: datetime) -> dict[int, SessionRow]:
    """Each session once, with the effect of all its messages of the batch, in order (store.add_message), in the
    order of their first message."""
    updated: dict[int, SessionRow] = {}
    for m in messages:
        row = updated.get(m.session_id) or sessions[m.session_id]
        updated[m.session_id] = dataclasses.replace(
            row, last_message=m.content, updated_at=now,
            admin_unread_count=row.admin_unread_count + (m.sender_type == "user"),
            message_count=row.message_count + 1,
            first_reply_at=row.first_reply_at or (m.created_at if m.sender_type == "admin" else None),
        )
    return updated


def _reply_deadlines(messages: list[MessageRow], sessions: dict[int, SessionRow]) -> tuple[list[int], ...]:
    """The net effect of `Chat._note_reply_state` over each session's messages of the batch: the agent's last word
    ends the wait (the first list); the user's starts it now if the agent spoke earlier in the batch (the wait was
    ended: the next two, sessions and their agents), else only unless one already runs for that agent (the last
    two)."""
    said: dict[int, list[str]] = {}
    for m in messages:
        said.setdefault(m.session_id, []).append(m.sender_type)
    answered: list[int] = []
    restart: list[int] = []
    wrote: list[int] = []
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
    admins = {sid: row.admin_id or 0 for sid, row in sessions.items()}
    return answered, restart, [admins[s] for s in restart], wrote, [admins[s] for s in wrote]


def _follow(later: Pending, earlier: Pending) -> None:
    """`later` has the key of `earlier` (delivered or sent again before the first was answered): the same outcome,
    or a refusal if it is another message under the same key."""
    if later.fingerprint != earlier.fingerprint:
        later.done.set_exception(IdempotencyKeyReused())
    elif earlier.done.cancelled():
        later.done.cancel()
    elif (exc := earlier.done.exception()) is not None:
        later.done.set_exception(exc)
    else:
        later.done.set_result(earlier.done.result())


async def _settle(pending: Pending, work: Any) -> None:
    try:
        pending.done.set_result(await work)
    except Exception as exc:  # noqa: BLE001 - handed to the command's own task, which answers or retries it
        pending.done.set_exception(exc)
