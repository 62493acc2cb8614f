"""A watchdog for database transactions that stay open too long.

A transaction left open by a coroutine that stopped driving it (a bug, a cancelled task, an await that never
returns) holds its locks and wedges everything that waits on them, and PostgreSQL only says "idle in
transaction". The watchdog says *who*: every ``interval`` it logs, once per transaction, each one open longer
than ``warn_after`` seconds with the stack of the asyncio task that began it.

    watch = TransactionWatch(engine)   # listens to the engine's begin / commit / rollback / check-in
    task = asyncio.create_task(watch.run())
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)


@dataclass
class _Open:
    since: float
    task: asyncio.Task[Any] | None
    dbapi_id: int
    reported: bool = field(default=False)


class TransactionWatch:
    def __init__(self, engine: AsyncEngine, *, warn_after: float = 5.0, interval: float = 1.0) -> None:
        self._warn_after = warn_after
        self._interval = interval
        self._open: dict[int, _Open] = {}  # id of the engine Connection -> its open transaction
        sync_engine = engine.sync_engine
        event.listen(sync_engine, "begin", self._began)
        event.listen(sync_engine, "commit", self._ended)
        event.listen(sync_engine, "rollback", self._ended)
        event.listen(sync_engine.pool, "checkin", self._checked_in)

    def _began(self, conn: Any) -> None:
        try:
            task = asyncio.current_task()
        except RuntimeError:  # not inside a running loop (a synchronous caller)
            task = None
        self._open[id(conn)] = _Open(time.monotonic(), task, id(conn.connection.dbapi_connection))

    def _ended(self, conn: Any) -> None:
        # Keyed by the Connection itself: a cancelled query invalidates the connection, and reading
        # `conn.connection` then raises PendingRollbackError, which would replace the CancelledError being handled.
        self._open.pop(id(conn), None)

    def _checked_in(self, dbapi_connection: Any, _record: Any) -> None:
        if dbapi_connection is None:  # invalidated: its Connection's rollback already ended the entry
            return
        ended = [key for key, entry in self._open.items() if entry.dbapi_id == id(dbapi_connection)]
        for key in ended:  # a few at most (one per checked-out connection)
            del self._open[key]

    def overdue(self) -> list[tuple[float, asyncio.Task[Any] | None]]:
        """(age in seconds, task) of every open transaction older than ``warn_after`` not reported yet;
        marks them reported."""
        now = time.monotonic()
        found = []
        for entry in self._open.values():
            if not entry.reported and now - entry.since >= self._warn_after:
                entry.reported = True
                found.append((now - entry.since, entry.task))
        return found

    def report(self) -> int:
        overdue = self.overdue()
        for age, task in overdue:
            log.warning("a database transaction has been open for %.1fs; the task that began it %s",
                        age, _where(task))
        return len(overdue)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            self.report()


def _where(task: asyncio.Task[Any] | None) -> str:
    if task is None:
        return "is unknown (began outside a task)"
    if task.done():
        return f"({task.get_name()}) has ended without closing it"
    out = io.StringIO()
    task.print_stack(file=out)
    return f"({task.get_name()}) is at:\n{out.getvalue().rstrip()}"
