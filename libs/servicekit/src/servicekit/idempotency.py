"""``Idempotency-Key`` for POSTs that create things: a retry with the same key returns the first answer.

Each service keeps the answers in its own schema (``idempotency_table``). Requests with the same (user, key)
are serialized by a transaction-scoped advisory lock, so two concurrent retries cannot both create. The stored
answer is written in the same transaction as what it created: either both exist or neither does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from contracts.socketio.ack import IDEMPOTENCY_KEY_REUSED
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    func,
    select,
)
from sqlalchemy import text as sql
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from servicekit.errors import Invalid

MAX_KEY_LENGTH = 200


def idempotency_table(metadata: MetaData, schema: str) -> Table:
    return Table(
        "idempotency_keys",
        metadata,
        Column("user_id", BigInteger, nullable=False),
        Column("key", Text, nullable=False),
        Column("fingerprint", Text, nullable=False),
        Column("status", Integer, nullable=False),
        Column("body", JSONB, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        PrimaryKeyConstraint("user_id", "key"),
        schema=schema,
    )


class IdempotencyKeyReused(Invalid):
    code = IDEMPOTENCY_KEY_REUSED
    message = "this Idempotency-Key was already used for a different request"
    precise_ack = True  # a socket client resending under its client_msg_id learns exactly why it was refused


def fingerprint(operation: str, payload: Any) -> str:
    """What makes two requests "the same": the operation and its (JSON-able) input."""
    data = json.dumps([operation, payload], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(data.encode()).hexdigest()


def lock_key(user_id: int, key: str) -> int:
    """The transaction-scoped advisory lock that serializes requests with the same (user, key): a batch writing
    several keyed creations on a raw connection takes the same locks as ``run_once`` (in ascending order)."""
    return _lock_key(user_id, key)


def _lock_key(user_id: int, key: str) -> int:
    digest = hashlib.blake2b(f"idem:{user_id}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


async def run_once(
    db: AsyncConnection,
    table: Table,
    *,
    user_id: int,
    key: str | None,
    request_fingerprint: str,
    create: Callable[[], Awaitable[tuple[int, Any]]],
) -> tuple[int, Any]:
    """``create()`` -> (status, JSON body), unless ``key`` was seen for this user: then the stored answer.

    Must run inside the caller's transaction (the one ``create`` writes in). Without a key it just creates.
    """
    if key is None:
        return await create()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise Invalid(f"Idempotency-Key must be 1..{MAX_KEY_LENGTH} characters")
    await db.execute(sql("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(user_id, key)})
    stored = (
        await db.execute(
            select(table.c.fingerprint, table.c.status, table.c.body).where(
                table.c.user_id == user_id, table.c.key == key
            )
        )
    ).first()
    if stored is not None:
        if stored.fingerprint != request_fingerprint:
            raise IdempotencyKeyReused()
        return stored.status, stored.body
    status, body = await create()
    await db.execute(
        table.insert().values(user_id=user_id, key=key, fingerprint=request_fingerprint, status=status, body=body)
    )
    return status, body
