"""Background tasks that always stop: a shutdown that waits for ever on one of them is a process that never exits
(and a test run that hangs).

    tasks = [asyncio.create_task(relay.run(), name="chat-outbox-relay"), ...]
    ...
    await stop_tasks(tasks)            # cancel, wait a bounded time, name (with its stack) any that did not stop

A loop that retries on ``Exception`` checks ``being_cancelled()`` before going round again: a library that turns
the CancelledError it was handling into another exception (a rollback failing on a connection the cancellation
invalidated, say) must not make the loop swallow its cancellation.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

log = logging.getLogger(__name__)


async def every(interval: float, step: Callable[[], Awaitable[object]], what: str, *, at_once: bool = False) -> None:
    """``step()`` every ``interval`` seconds until cancelled (the first one right away with ``at_once``, else after
    one interval); a step that fails is logged as ``what`` and tried again next time: a sweep must outlive a database
    restart. The loop of every periodic sweep of the services."""
    if not at_once:
        await asyncio.sleep(interval)
    while True:
        try:
            await step()
        except Exception:
            if being_cancelled():
                raise
            log.warning("%s failed; trying again in %.2fs", what, interval, exc_info=True)
        await asyncio.sleep(interval)


def being_cancelled() -> bool:
    """True inside a task that has been asked to stop (``task.cancel()``), whatever exception it is handling."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


async def stop_tasks(
    tasks: Iterable[asyncio.Task[Any] | None], *, timeout: float = 5.0
) -> set[asyncio.Task[Any]]:
    """Cancel ``tasks`` (``None`` entries are skipped) and wait up to ``timeout`` seconds for them to end. A task
    still running then is logged with its stack and left behind, so the caller's shutdown goes on; returns those."""
    pending = [task for task in tasks if task is not None]
    for task in pending:
        task.cancel()
    if not pending:
        return set()
    done, stuck = await asyncio.wait(pending, timeout=timeout)
    for task in stuck:
        out = io.StringIO()
        task.print_stack(file=out)
        log.error("task %s did not stop within %.1fs of being cancelled; left running. It is at:\n%s",
                  task.get_name(), timeout, out.getvalue().rstrip())
    for task in done:
        if not task.cancelled() and task.exception() is not None:
            log.warning("task %s ended with an error while stopping", task.get_name(), exc_info=task.exception())
    return stuck
