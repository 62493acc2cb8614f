"""Delivers the subscribe messages wechat_reach.py recorded (`wechat_sends`), outside any transaction.

Each round claims the due messages (`FOR UPDATE SKIP LOCKED`, so several processes never take the same one) by
pushing their next attempt a lease ahead, then calls WeChat for each, concurrently, and records the outcome:
`sent`; `refused` (43101: the user turned the subscription off; their consents for it end) or another error
that cannot change by trying again (`failed`); else it is retried with doubling waits until
`NOTIFICATION_WECHAT_SEND_ATTEMPTS`. A process that dies mid-send leaves the message to be retried when the
lease ends (WeChat may then get it twice; never zero times). Wakes when this process records a message, and
polls for the rest. Nothing reads a message back once it is settled: rows go after `NOTIFICATION_RETENTION_HOURS`
(`retention_rules`; a message is settled within minutes of being written, retries wait at most `MAX_WAIT`).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from servicekit.retention import Prune, RetentionSettings
from servicekit.tasks import being_cancelled
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from notification_svc import reach_presence
from notification_svc.db import wechat_sends, wechat_subscriptions
from notification_svc.wechat_api import WeChatApi, WeChatError

log = logging.getLogger(__name__)

REFUSED = 43101
"""The user refused (or used up) the subscription at WeChat."""
FINAL = frozenset({REFUSED, 40003, 40037, 47003})
"""Errors that trying again cannot fix: refused, bad openid, bad template id, bad template data."""
BATCH = 16
LEASE = timedelta(seconds=60)
"""A claimed message is not claimed again before this (longer than a send with its token fetch can take)."""
MAX_WAIT = 60.0
EXPIRED_GATEWAYS_KEPT = timedelta(hours=1)


def retention_rules(settings: RetentionSettings) -> tuple[Prune, ...]:
    """Subscribe messages written more than `retention_hours` ago go (servicekit.retention)."""
    return (Prune(wechat_sends, "created_at", timedelta(hours=settings.retention_hours)),)


@dataclass
class Outcome:
    status: str
    error: str | None = None


class Sender:
    def __init__(self, engine: AsyncEngine, api: WeChatApi, *, attempts: int, retry_seconds: float,
                 poll_seconds: float) -> None:
        self._engine = engine
        self._api = api
        self._attempts = attempts
        self._retry_seconds = retry_seconds
        self._poll_seconds = poll_seconds
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        rounds = 0
        while True:
            try:
                while await self.send_due():
                    pass
                rounds += 1
                if rounds % 600 == 0:
                    async with self._engine.begin() as db:
                        await reach_presence.forget_expired_gateways(db, EXPIRED_GATEWAYS_KEPT)
            except Exception:
                if being_cancelled():
                    raise
                log.warning("wechat sender round failed; trying again", exc_info=True)
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll_seconds)
            except TimeoutError:
                pass
            self._wake.clear()

    async def send_due(self) -> int:
        """One round: claim, send and record the due messages; how many were claimed."""
        claimed = await self._claim()
        if claimed:
            outcomes = await asyncio.gather(*(self._send(row) for row in claimed))
            await self._record(list(zip(claimed, outcomes, strict=True)))
        return len(claimed)

    async def _claim(self) -> list[Any]:
        w = wechat_sends.c
        due = (select(w.id).where(w.status == "pending", w.next_attempt_at <= func.now())
               .order_by(w.next_attempt_at, w.id).limit(BATCH).with_for_update(skip_locked=True))
        async with self._engine.begin() as db:
            rows = await db.execute(
                wechat_sends.update().where(w.id.in_(due.scalar_subquery()))
                .values(attempts=w.attempts + 1, next_attempt_at=func.now() + LEASE)
                .returning(w.id, w.user_id, w.openid, w.template_id, w.page, w.data, w.attempts)
            )
            return list(rows.all())

    async def _send(self, row: Any) -> Outcome:
        message = {"touser": row.openid, "template_id": row.template_id, "page": row.page, "data": row.data}
        try:
            await self._api.send_subscribe_message(message)
        except WeChatError as error:
            final = error.errcode in FINAL or row.attempts >= self._attempts
            status = ("refused" if error.errcode == REFUSED else "failed") if final else "pending"
            log.warning("wechat subscribe message %d not delivered (attempt %d): %s; %s", row.id, row.attempts,
                        error, "giving up" if final else "retrying", extra={"user_id": row.user_id})
            return Outcome(status, str(error))
        log.info("wechat subscribe message %d delivered", row.id, extra={"user_id": row.user_id})
        return Outcome("sent")

    async def _record(self, results: list[tuple[Any, Outcome]]) -> None:
        w, s = wechat_sends.c, wechat_subscriptions.c
        async with self._engine.begin() as db:
            for row, outcome in results:
                values: dict[str, Any] = {"status": outcome.status, "last_error": outcome.error}
                if outcome.status == "sent":
                    values["sent_at"] = func.now()
                elif outcome.status == "pending":
                    wait = min(MAX_WAIT, self._retry_seconds * 2 ** (row.attempts - 1))
                    values["next_attempt_at"] = func.now() + timedelta(seconds=wait)
                await db.execute(wechat_sends.update().where(w.id == row.id).values(**values))
                if outcome.status == "refused":  # WeChat holds no consent of theirs: ours are stale
                    await db.execute(wechat_subscriptions.update()
                                     .where(s.user_id == row.user_id, s.template_id == row.template_id)
                                     .values(remaining=0, updated_at=func.now()))
