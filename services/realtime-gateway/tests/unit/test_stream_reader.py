"""The stream reader of a gateway that has just started: its broker link may still be coming up when the first
clients reconnect (they are the ones recovery exists for)."""

import asyncio
from typing import Any

import pytest
from realtime_gateway.delivery.stream import StreamReader


class FakeChannel:
    is_closed = False

    async def set_qos(self, prefetch_count: int) -> None:
        pass

    async def declare_queue(self, name: str, passive: bool) -> str:
        return f"queue {name}"


class FakeConnection:
    async def channel(self) -> FakeChannel:
        return FakeChannel()


async def test_a_read_while_the_broker_link_comes_up_waits_for_it_instead_of_failing() -> None:
    link: dict[str, Any] = {"connection": None}
    ready = asyncio.Event()

    async def wait_connected(timeout: float) -> None:
        await asyncio.wait_for(ready.wait(), timeout)

    reader = StreamReader(lambda: link["connection"], wait_connected=wait_connected)

    async def link_comes_up() -> None:
        await asyncio.sleep(0.05)
        link["connection"] = FakeConnection()
        ready.set()

    asyncio.get_running_loop().create_task(link_comes_up())
    assert await reader._stream(timeout=5) == "queue gateway.events.stream"


async def test_a_read_with_no_broker_link_fails_after_the_timeout() -> None:
    async def never(timeout: float) -> None:
        await asyncio.wait_for(asyncio.Event().wait(), timeout)

    reader = StreamReader(lambda: None, wait_connected=never)
    with pytest.raises(ConnectionError, match="not connected to the message broker"):
        await reader._stream(timeout=0.05)
