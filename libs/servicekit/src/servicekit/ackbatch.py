"""One consumer's acks sent together: ``basic.ack(multiple=True)`` for the deliveries that finish one after another
(issue 20: chat-svc's group commit finishes a batch of commands at once, and their replies go out one per pass of the
event loop; one ack frame for all of them instead of one each, in the service and in the broker). An ack waits while
others keep joining it: until 4 passes of the loop in a row added none, 32 passes at most (microseconds each when
the loop is busy, nothing when it is idle: no timer).

A multiple ack covers every delivery of its channel up to its tag that is still unsettled, so it is sent only for
the contiguous run of tags above the last one covered, all of them finished (acked here) or already settled one by
one (rejected, requeued). A finished delivery above a tag still being handled (a retry waiting out its backoff, a
slow command) is acked alone at once: nothing waits for a slow neighbour, and no unacked message holds a prefetch
slot for long. Delivery tags are per channel, consecutive from 1: one ``AckBatch`` per consumer, on a
channel of its own (``servicekit.amqp.start_consumer``), and a channel reopened by the robust connection starts
afresh. An ack is that much later than its delivery's reply: a connection lost in between gets
those deliveries redelivered, which the consumers' idempotency already covers (as for a crash before any ack).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass, field

from aio_pika.abc import AbstractIncomingMessage

log = logging.getLogger(__name__)

_MAX_PASSES = 32
"""Passes of the event loop an ack waits at most for others to join it."""
_QUIET_PASSES = 4
"""... and it stops waiting after this many passes in a row that added none."""


@dataclass
class _Channel:
    floor: int = 0
    """Every delivery tag up to this one is settled (acked, rejected or requeued)."""
    done: dict[int, AbstractIncomingMessage] = field(default_factory=dict)
    """Finished, not acked yet."""
    settled: set[int] = field(default_factory=set)
    """Settled one by one above ``floor``."""
    flushing: bool = False


class AckBatch:
    """``await acks.ack(message)`` instead of ``message.ack()``; ``acks.settled(message)`` after rejecting or
    requeueing one (see the module)."""

    def __init__(self) -> None:
        self._channels: weakref.WeakKeyDictionary[object, _Channel] = weakref.WeakKeyDictionary()

    def _state(self, message: AbstractIncomingMessage) -> _Channel:
        channel = message.channel
        state = self._channels.get(channel)
        if state is None:
            state = self._channels[channel] = _Channel()
        return state

    def settled(self, message: AbstractIncomingMessage) -> None:
        """``message`` was rejected or requeued (its own frame, already written)."""
        if message.delivery_tag is None:
            return
        try:
            self._state(message).settled.add(message.delivery_tag)
        except Exception:  # noqa: BLE001 - its channel is gone: nothing of it is left to ack
            return

    async def ack(self, message: AbstractIncomingMessage) -> None:
        tag = message.delivery_tag
        try:
            state = self._state(message)
        except Exception:  # noqa: BLE001 - its channel is gone; the broker redelivers it
            log.debug("could not ack %s: its channel is closed", message.message_id)
            return
        if tag is None:
            await message.ack()
            return
        state.done[tag] = message
        if state.flushing:
            return  # the delivery that started this pass's flush acks it
        state.flushing = True
        try:
            quiet = 0
            for _ in range(_MAX_PASSES):  # the deliveries finishing meanwhile join this ack, while they keep coming
                waiting = len(state.done)
                await asyncio.sleep(0)
                quiet = quiet + 1 if len(state.done) == waiting else 0
                if quiet == _QUIET_PASSES:
                    break
        finally:
            state.flushing = False
        await self._flush(state)

    async def _flush(self, state: _Channel) -> None:
        last: AbstractIncomingMessage | None = None
        top = state.floor
        while True:
            following = top + 1
            if following in state.done:
                last = state.done.pop(following)
            elif following in state.settled:
                state.settled.discard(following)
            else:
                break
            top = following
        state.floor = top
        alone = sorted(state.done.items())
        state.done.clear()
        state.settled.update(tag for tag, _ in alone)
        try:
            if last is not None:
                await last.ack(multiple=True)
            for _, message in alone:
                await message.ack()
        except Exception:
            log.debug("acks lost with their channel; the broker redelivers those messages", exc_info=True)
