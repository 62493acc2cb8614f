"""servicekit.tasks: a shutdown never waits for ever on a background task."""

from __future__ import annotations

import asyncio
import logging

import pytest
from servicekit.tasks import being_cancelled, every, stop_tasks


class _Converted(Exception):
    """What a library may raise while cleaning up after a cancellation (e.g. a rollback on a dead connection)."""


async def _converts_its_cancellation() -> None:
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        raise _Converted("cleanup failed") from None


async def test_a_retry_loop_guarded_by_being_cancelled_stops_when_its_cancellation_is_converted() -> None:
    rounds = 0
    give_up = False

    async def retry_loop(guarded: bool) -> None:
        nonlocal rounds
        while not give_up:
            try:
                await _converts_its_cancellation()
            except Exception:
                if guarded and being_cancelled():
                    raise
                rounds += 1  # what an unguarded loop does: log, and go round again

    unguarded = asyncio.create_task(retry_loop(False))
    await asyncio.sleep(0.01)
    unguarded.cancel()
    await asyncio.sleep(0.05)
    assert rounds == 1 and not unguarded.done()  # the cancellation was swallowed: it would never stop
    give_up = True
    unguarded.cancel()
    await unguarded
    give_up = False

    guarded = asyncio.create_task(retry_loop(True))
    await asyncio.sleep(0.01)
    guarded.cancel()
    with pytest.raises(_Converted):
        await asyncio.wait_for(guarded, 1)
    assert rounds == 2  # the unguarded loop's two rounds; the guarded one went round none


async def test_stop_tasks_cancels_waits_and_names_a_task_that_will_not_stop(caplog: pytest.LogCaptureFixture) -> None:
    release = asyncio.Event()

    async def obliging() -> None:
        await asyncio.sleep(3600)

    async def stubborn() -> None:
        while not release.is_set():
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                pass  # a bug: it goes on

    good = asyncio.create_task(obliging(), name="obliging")
    bad = asyncio.create_task(stubborn(), name="stubborn")
    await asyncio.sleep(0)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with caplog.at_level(logging.ERROR, logger="servicekit.tasks"):
        await stop_tasks([good, None, bad], timeout=0.2)
    assert loop.time() - started < 2  # bounded, not a hang
    assert good.cancelled()
    assert not bad.done()
    [record] = caplog.records
    assert "stubborn" in record.getMessage() and "did not stop" in record.getMessage()
    assert "in stubborn" in record.getMessage()  # its stack: where it is stuck
    release.set()
    bad.cancel()
    await asyncio.wait_for(bad, 1)


async def test_every_runs_its_step_each_interval_and_a_failed_step_is_logged_and_tried_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[float] = []

    async def step() -> None:
        calls.append(asyncio.get_running_loop().time())
        if len(calls) == 2:
            raise RuntimeError("database restarting")

    loop = asyncio.get_running_loop()
    started = loop.time()
    task = asyncio.create_task(every(0.02, step, "test sweep"))
    while len(calls) < 4:
        await asyncio.sleep(0.005)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert task.cancelled()
    assert calls[0] - started >= 0.02  # the first step after one interval
    assert "test sweep failed" in caplog.text and "database restarting" in caplog.text


async def test_every_at_once_runs_the_first_step_before_the_first_interval() -> None:
    ran = asyncio.Event()

    async def step() -> None:
        ran.set()

    task = asyncio.create_task(every(3600, step, "hourly", at_once=True))
    await asyncio.wait_for(ran.wait(), 1)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
