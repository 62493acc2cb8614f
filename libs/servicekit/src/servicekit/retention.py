"""Housekeeping: rows that matter only for a while are deleted once old, so a service's tables do not grow for ever.

What each service prunes (its own schema only):
- published outbox rows (``published_at``): once the broker confirmed them, nothing reads them again (a relay
  republishes only rows not yet marked, and consumers deduplicate by event id);
- processed event ids (``processed_at``): duplicates come within minutes of the original (a relay republishing
  after a crash), so a week is ample;
- idempotency keys (``created_at``): clients retry within minutes; after a day a key may be reused;
- rate-limit counts (``updated_at``): a key idle for a day has nothing left to count (``servicekit.ratelimit``);
- what the service names itself (``Tables.own_retention``): e.g. auth-svc's login-failure counters and expired
  refresh-token families, chat-svc's reply-deadline alerts.

    rules = service_rules(settings, outbox=outbox, idempotency_keys=idempotency_keys,
                          own=tables.own_retention)
    task = asyncio.create_task(prune_forever(engine, rules, interval=settings.retention_interval_seconds))

Rows go in batches (one short transaction each), so a large backlog never holds a long lock on a busy table.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from pydantic import Field
from pydantic_settings import BaseSettings
from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncEngine

from servicekit.tasks import every

log = logging.getLogger(__name__)

BATCH = 5_000


class PruneSettings(BaseSettings):
    """How often a service looks for old rows (every service with rules to apply composes it)."""

    retention_interval_seconds: float = Field(600, gt=0, description="how often old rows are looked for")


class RetentionSettings(PruneSettings):
    """The fields every service with an outbox composes into its own Settings (env prefix from the subclass)."""

    retention_hours: float = Field(
        168, gt=0, description="published outbox rows and processed event ids older than this are deleted",
    )
    idempotency_key_hours: float = Field(
        24, gt=0, description="how long an Idempotency-Key answers a retry with the first response",
    )


@dataclass(frozen=True)
class Prune:
    """Delete rows of ``table`` whose ``column`` (a timestamp; NULL never matches) is older than ``max_age``."""

    table: Table
    column: str
    max_age: timedelta

    def __post_init__(self) -> None:
        if self.column not in self.table.c:
            raise ValueError(f"{self.table.fullname} has no column {self.column!r}")

    @property
    def name(self) -> str:
        return self.table.fullname


def service_rules(
    settings: PruneSettings, *, outbox: Table | None = None, idempotency_keys: Table | None = None,
    processed_events: Table | None = None, rate_limits: Table | None = None, own: Sequence[Prune] = (),
) -> list[Prune]:
    """The rules for the tables servicekit gives a service (outbox, idempotency keys, processed event ids, rate
    limits), then ``own``: the service's rules for tables of its own that matter only for a while."""
    rules: list[Prune] = []
    if isinstance(settings, RetentionSettings):
        kept = timedelta(hours=settings.retention_hours)
        if outbox is not None:
            rules.append(Prune(outbox, "published_at", kept))
        if idempotency_keys is not None:
            rules.append(Prune(idempotency_keys, "created_at", timedelta(hours=settings.idempotency_key_hours)))
        if processed_events is not None:
            rules.append(Prune(processed_events, "processed_at", kept))
    if rate_limits is not None:  # counts of keys idle for a day (windows are at most an hour: servicekit.ratelimit)
        rules.append(Prune(rate_limits, "updated_at", timedelta(days=1)))
    rules.extend(own)
    return rules


async def prune_once(engine: AsyncEngine, rules: Sequence[Prune], *, batch: int = BATCH) -> dict[str, int]:
    """Delete what ``rules`` say is old; returns rows deleted per table."""
    deleted: dict[str, int] = {}
    for rule in rules:
        target = f'"{rule.table.schema}"."{rule.table.name}"' if rule.table.schema else f'"{rule.table.name}"'
        statement = text(
            f"DELETE FROM {target} WHERE ctid = ANY(ARRAY("
            f'SELECT ctid FROM {target} WHERE "{rule.column}" < now() - make_interval(secs => :age) LIMIT :batch))'
        )
        total = 0
        while True:
            async with engine.begin() as conn:
                result = await conn.execute(statement, {"age": rule.max_age.total_seconds(), "batch": batch})
            total += result.rowcount
            if result.rowcount < batch:
                break
        deleted[rule.name] = total
    return deleted


async def prune_forever(engine: AsyncEngine, rules: Sequence[Prune], *, interval: float) -> None:
    """``prune_once`` every ``interval`` seconds (the first pass right away) until cancelled; a failed pass (the
    database restarting) is logged and tried again next time (``servicekit.tasks.every``)."""

    async def pass_once() -> None:
        deleted = await prune_once(engine, rules)
        if any(deleted.values()):
            log.info("retention: deleted old rows", extra={"deleted": deleted})

    await every(interval, pass_once, "retention pass", at_once=True)
