"""Group commit of targeted sends (`POST /notifications/send` with `target_user_id`): the sends that arrive while a
transaction runs go together into the next one, written with a few set-based statements on the raw asyncpg
connection.

Per batch, whatever its size: BEGIN; with Idempotency-Keys, their advisory locks (``servicekit.idempotency``'s,
in ascending order) and one read of the stored answers; one INSERT of the notifications; one call of
``lock_and_adjust_badges`` (migration 0007: each target's badge lock in id order, its counters moved by the
batch's notifications, its counts read after the lock); one INSERT of every event into the outbox (with its
NOTIFY); with keys, one INSERT of the answers; COMMIT. Events, in this order: each notification its
``notification.created``, then each target admin one ``notification.unread_counts_changed`` with the badge as
committed (a batch of k sends to one admin moves its badge by k in one step: the intermediate numbers never
existed in the database).

The rules are ``notifications.send``'s: admins only, one answer per Idempotency-Key (a repeated key with the same
body gets the first answer, also when both are in one batch; with another body 422 ``idempotency_key_reused``,
refused alone while the others commit). Any other failure (the database gone, a deadlock) fails the whole batch:
nothing of it committed, every request of it answers the error (503 for a lost database).

One batch runs at a time per process, taking the waiting sends in arrival order: one admin's notifications are
numbered, counted and announced in the order this process received them, and the lock is held only by the batch
in flight (no request of this process waits for it). ``max_batch`` 1 writes every send in its own transaction
(the same statements).
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

from contracts.events import payloads as p
from contracts.events.envelope import EventEnvelope
from contracts.events.registry import NOTIFICATION_CREATED, NOTIFICATION_UNREAD_COUNTS_CHANGED, new_envelope
from contracts.identity import Principal
from contracts.payloads import NotificationData, UnreadCountData
from servicekit.errors import DomainError
from servicekit.idempotency import IdempotencyKeyReused, fingerprint, lock_key
from servicekit.logcontext import request_id
from servicekit.outbox_batch import enqueue_many
from sqlalchemy.ext.asyncio import AsyncEngine

from notification_svc import unread
from notification_svc.db import SCHEMA
from notification_svc.domain import require_admin
from notification_svc.notifications import NewNotification

log = logging.getLogger(__name__)

PRODUCER = "notification-svc"
OPERATION = "notification.send"
"""The idempotency fingerprint's operation: the same as ``notifications.send``'s, so a key first used on either
path is recognized on the other."""

_INSERT = (
    f"INSERT INTO {SCHEMA}.notifications (type, title, content, link, target_user_id, created_by) "
    "SELECT type, title, content, link, target_user_id, created_by FROM unnest($1::text[], $2::text[], $3::text[], "
    "$4::text[], $5::bigint[], $6::bigint[]) WITH ORDINALITY AS v(type, title, content, link, target_user_id, "
    "created_by, n) ORDER BY n RETURNING id, created_at"
)
_BADGES = (
    "SELECT o_user_id AS user_id, o_type AS type, o_plus AS plus, o_minus AS minus "
    f"FROM {SCHEMA}.lock_and_adjust_badges($1::bigint[], $2::text[], $3::integer[])"
)
_LOCK_KEYS = "SELECT pg_advisory_xact_lock(k) FROM (SELECT k FROM unnest($1::bigint[]) AS k ORDER BY k) AS keys"
_ANSWERED_BEFORE = (
    f"SELECT user_id, key, fingerprint, body::text AS body FROM {SCHEMA}.idempotency_keys "
    "WHERE (user_id, key) IN (SELECT * FROM unnest($1::bigint[], $2::text[]))"
)
_REMEMBER = (
    f"INSERT INTO {SCHEMA}.idempotency_keys (user_id, key, fingerprint, status, body) "
    "SELECT user_id, key, fingerprint, 201, body::jsonb FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) "
    "AS v(user_id, key, fingerprint, body)"
)


@dataclass(eq=False)
class PendingSend:
    """One targeted send waiting for its batch."""

    sender: Principal
    new: NewNotification
    key: str | None
    fingerprint: str | None
    """Of the request, with a key only (``servicekit.idempotency.fingerprint``)."""
    request_id: str | None
    done: asyncio.Future[dict[str, Any]] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class SendBatcher:
    """``send`` answers like ``notifications.send`` for a targeted notification, in a group commit."""

    def __init__(self, engine: AsyncEngine, *, max_batch: int) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._waiting: deque[PendingSend] = deque()
        self._worker: asyncio.Task[None] | None = None
        self.batches = 0
        self.sends = 0

    async def send(self, sender: Principal, new: NewNotification, *, idempotency_key: str | None = None
                   ) -> dict[str, Any]:
        """NotificationData as JSON (the first answer again for a repeated ``idempotency_key``)."""
        require_admin(sender)
        if new.target_user_id is None:
            raise ValueError("the batch writes targeted notifications only (a broadcast: notifications.send)")
        fp = fingerprint(OPERATION, asdict(new)) if idempotency_key is not None else None
        pending = PendingSend(sender, new, idempotency_key, fp, request_id())
        self._waiting.append(pending)
        if self._worker is None or self._worker.done():
            # A context of its own: a batch serves many requests, each event carries its own request's id.
            self._worker = asyncio.create_task(self._drain(), name="notification-send-batches",
                                               context=contextvars.Context())
        return await asyncio.shield(pending.done)

    async def _drain(self) -> None:
        while self._waiting:
            batch = [self._waiting.popleft() for _ in range(min(self._max_batch, len(self._waiting)))]
            try:
                await self._commit(batch)
            except Exception as exc:  # noqa: BLE001 - every send of the batch fails alike (nothing committed)
                log.warning("a batch of %d sends failed: %r", len(batch), exc)
                for pending in batch:
                    if not pending.done.done():
                        pending.done.set_exception(exc)

    async def _commit(self, batch: list[PendingSend]) -> None:
        async with self._engine.connect() as sa:
            conn = (await sa.get_raw_connection()).driver_connection
            assert conn is not None
            async with conn.transaction():
                fresh, replies = await _claim_keys(conn, batch)
                answers = await _write(conn, fresh) if fresh else {}
        for pending, answer in answers.items():
            pending.done.set_result(answer)
        for pending, reply in replies.items():
            _settle(pending, reply)
        self.batches += 1
        self.sends += len(batch)


Reply = PendingSend | dict[str, Any] | DomainError
"""What a send with an already used key gets: the stored answer, the answer of the send earlier in its batch that
used the key first, or the refusal."""


async def _claim_keys(conn: Any, batch: list[PendingSend]) -> tuple[list[PendingSend], dict[PendingSend, Reply]]:
    """Which sends create (in order), and what the others answer. Takes the keys' advisory locks first."""
    keyed = [s for s in batch if s.key is not None]
    if not keyed:
        return batch, {}
    await conn.execute(_LOCK_KEYS, sorted({lock_key(s.sender.user_id, s.key) for s in keyed if s.key}))
    rows = await conn.fetch(_ANSWERED_BEFORE, [s.sender.user_id for s in keyed], [s.key for s in keyed])
    stored = {(r["user_id"], r["key"]): (r["fingerprint"], json.loads(r["body"])) for r in rows}
    first: dict[tuple[int, str], PendingSend] = {}
    fresh: list[PendingSend] = []
    replies: dict[PendingSend, Reply] = {}
    for send in batch:
        if send.key is None:
            fresh.append(send)
            continue
        at = (send.sender.user_id, send.key)
        if at in stored:
            fp, body = stored[at]
            replies[send] = body if fp == send.fingerprint else IdempotencyKeyReused()
        elif at in first:
            replies[send] = first[at] if first[at].fingerprint == send.fingerprint else IdempotencyKeyReused()
        else:
            first[at] = send
            fresh.append(send)
    return fresh, replies


async def _write(conn: Any, sends: list[PendingSend]) -> dict[PendingSend, dict[str, Any]]:
    news = [s.new for s in sends]
    rows = await conn.fetch(
        _INSERT, [n.type for n in news], [n.title for n in news], [n.content for n in news], [n.link for n in news],
        [n.target_user_id for n in news], [s.sender.user_id for s in sends],
    )
    created = [
        NotificationData(notification_id=row["id"], type=n.type, title=n.title, content=n.content, link=n.link,
                         created_at=row["created_at"], is_read=False, target_user_id=n.target_user_id)
        for n, row in zip(news, rows, strict=True)
    ]
    targets = [n.target_user_id for n in created if n.target_user_id is not None]
    badge_rows = await conn.fetch(_BADGES, targets, [n.type for n in created], [1] * len(created))
    badges = unread.badges(badge_rows, sorted(set(targets)))
    envelopes = [_created(s, n) for s, n in zip(sends, created, strict=True)]
    last = {n.target_user_id: s for s, n in zip(sends, created, strict=True)}
    envelopes += [_badge(last[user_id], user_id, badge) for user_id, badge in badges.items()]
    await enqueue_many(conn, SCHEMA, envelopes)
    answers = {s: n.model_dump(mode="json") for s, n in zip(sends, created, strict=True)}
    keyed = [s for s in sends if s.key is not None]
    if keyed:
        await conn.execute(_REMEMBER, [s.sender.user_id for s in keyed], [s.key for s in keyed],
                           [s.fingerprint for s in keyed], [json.dumps(answers[s]) for s in keyed])
    return answers


def _created(send: PendingSend, notification: NotificationData) -> EventEnvelope:
    payload = p.NotificationCreated(notification=notification, target_user_id=notification.target_user_id)
    return _enveloped(new_envelope(NOTIFICATION_CREATED, PRODUCER, payload, notification.notification_id), send)


def _badge(send: PendingSend, user_id: int, badge: UnreadCountData) -> EventEnvelope:
    """The admin's badge event, under the request id of the batch's last send to them."""
    payload = p.NotificationUnreadCountsChanged(counts=[p.AdminUnreadCount(user_id=user_id, **badge.model_dump())])
    return _enveloped(new_envelope(NOTIFICATION_UNREAD_COUNTS_CHANGED, PRODUCER, payload, f"admin:{user_id}"), send)


def _enveloped(envelope: EventEnvelope, send: PendingSend) -> EventEnvelope:
    """The envelope with its request's id (``servicekit.outbox.enqueue`` takes it from the log context; a batch
    serves many requests)."""
    return envelope if send.request_id is None else envelope.model_copy(update={"request_id": send.request_id})


def _settle(pending: PendingSend, reply: Reply) -> None:
    if isinstance(reply, DomainError):
        pending.done.set_exception(reply)
    elif isinstance(reply, PendingSend):
        if reply.done.done() and reply.done.exception() is None:
            pending.done.set_result(reply.done.result())
        else:  # pragma: no cover - the first send of a key is answered before the repeats
            pending.done.set_exception(RuntimeError("the first send of this Idempotency-Key has no answer"))
    else:
        pending.done.set_result(reply)
