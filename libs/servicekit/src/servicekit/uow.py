"""One unit of work: a transaction plus the events it will publish, committed together (the outbox pattern).

    work = UnitsOfWork(engine, outbox=outbox, producer="chat-svc", idempotency_keys=idempotency_keys)
    async with work.begin(correlation_id=command_id) as uow:
        row = await store.insert(uow.db, ...)
        await uow.publish(CHAT_MESSAGE_CREATED, payload, aggregate_id=row.session_id)

``publish`` writes the event to the service's outbox table inside the transaction; the relay
(``servicekit.outbox``) sends it once the transaction has committed, never if it rolled back. Every event of
one unit carries its ``correlation_id`` (the command id of a socket command, the request's id otherwise).
``before_commit`` defers work to the end of the unit (chat-svc announces each changed session once, with its
final state); ``once`` makes a creation idempotent under an ``Idempotency-Key`` in the same transaction.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from contracts.events.registry import new_envelope
from pydantic import BaseModel
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from servicekit.idempotency import fingerprint, run_once
from servicekit.outbox import enqueue

BeforeCommit = Callable[[], Awaitable[None]]


class UnitOfWork:
    """One open transaction (``db``) and the events it publishes. Made by ``UnitsOfWork.begin``."""

    def __init__(
        self, db: AsyncConnection, *, outbox: Table, producer: str, idempotency_keys: Table | None,
        correlation_id: str | None,
    ) -> None:
        self.db = db
        self.correlation_id = correlation_id
        self._outbox = outbox
        self._producer = producer
        self._idempotency_keys = idempotency_keys
        self._before_commit: list[BeforeCommit] = []

    async def publish(self, event_type: str, payload: BaseModel, aggregate_id: str | int) -> None:
        """Write the event to the outbox in this transaction (it goes out after the commit, in order)."""
        envelope = new_envelope(event_type, self._producer, payload, aggregate_id, correlation_id=self.correlation_id)
        await enqueue(self.db, self._outbox, envelope)

    def before_commit(self, hook: BeforeCommit) -> None:
        """Run ``hook`` once when the unit's body has finished without an error, before the commit."""
        self._before_commit.append(hook)

    async def once(
        self, *, user_id: int, key: str | None, operation: str, request: Any,
        create: Callable[[], Awaitable[tuple[int, Any]]],
    ) -> tuple[int, Any]:
        """``create()`` -> (status, JSON body), or the stored answer when ``user_id`` already sent ``key`` for
        the same ``operation`` and ``request`` (422 ``idempotency_key_reused`` for a different one)."""
        if self._idempotency_keys is None:
            raise RuntimeError(f"{self._producer} has no idempotency table: pass idempotency_keys to UnitsOfWork")
        return await run_once(self.db, self._idempotency_keys, user_id=user_id, key=key,
                              request_fingerprint=fingerprint(operation, request), create=create)

    async def _finish(self) -> None:
        while self._before_commit:
            await self._before_commit.pop(0)()


class UnitsOfWork:
    """Opens units of work on one engine for one service (its outbox table, its producer name)."""

    def __init__(
        self, engine: AsyncEngine, *, outbox: Table, producer: str, idempotency_keys: Table | None = None,
    ) -> None:
        self.engine = engine
        self._outbox = outbox
        self._producer = producer
        self._idempotency_keys = idempotency_keys

    @asynccontextmanager
    async def begin(self, *, correlation_id: str | None = None) -> AsyncIterator[UnitOfWork]:
        """A transaction: committed with its events when the block ends, rolled back (events too) on an error."""
        async with self.engine.begin() as db:
            uow = UnitOfWork(db, outbox=self._outbox, producer=self._producer,
                             idempotency_keys=self._idempotency_keys, correlation_id=correlation_id)
            yield uow
            await uow._finish()
