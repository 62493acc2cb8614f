"""`chat:typing`: relayed to the other participant of the session only, never stored, one per socket per
interval, refused for sessions the sender is not part of or that are closed.

The other participant may be on another gateway, so the relay goes through RabbitMQ as a non-persistent
`gateway.chat_typing` event that every gateway consumes (and routes with the one table, `delivery/routing.py`).

Who takes part in a session comes from a cache fed by chat events (every gateway consumes them all), and on
a miss from chat-svc through the `chat.session_participants` query command.
"""

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from contracts.events import payloads as p
from contracts.events.commands import SessionParticipants
from contracts.identity import Principal
from contracts.payloads import TypingData
from contracts.socketio.ack import FORBIDDEN, RATE_LIMITED, UNAVAILABLE, ack_error, ack_ok
from contracts.socketio.client import TypingPayload
from contracts.socketio.events import CHAT_TYPING
from pydantic import BaseModel
from servicekit.amqp import PublishFailed

from realtime_gateway.clients.ratelimit import PerSocketLimiter
from realtime_gateway.clients.validation import parse_payload

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Participants:
    session_id: int
    user_id: int
    admin_id: int | None
    status: str | None  # None: not known from the events seen (a message implies the session is not closed)

    def other_than(self, principal: Principal) -> int | None:
        """The account to tell that `principal` is typing; None when `principal` is not a participant."""
        if principal.is_admin:
            return self.user_id if principal.user_id == self.admin_id else None
        return self.admin_id if principal.user_id == self.user_id else None


class ParticipantsCache:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[int, Participants] = OrderedDict()

    def get(self, session_id: int) -> Participants | None:
        entry = self._entries.get(session_id)
        if entry is not None:
            self._entries.move_to_end(session_id)
        return entry

    def put(self, entry: Participants) -> None:
        self._entries[entry.session_id] = entry
        self._entries.move_to_end(entry.session_id)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def observe(self, payload: BaseModel) -> None:
        """Learn from a chat domain event (others are ignored)."""
        if isinstance(payload, p.ChatSessionUpdated | p.ChatMessageCreated) and payload.session is not None:
            s = payload.session  # a message may carry its session's state instead of a chat.session_updated
            self.put(Participants(s.session_id, s.user_id, s.admin_id, s.status))
        elif isinstance(payload, p.ChatSessionAssigned):
            a = payload.assignment
            known = self.get(a.session_id)
            self.put(Participants(a.session_id, a.user_id, a.admin_id, "active" if known is None else known.status))
        elif isinstance(payload, p.ChatMessageCreated):
            m = payload.message
            known = self.get(m.session_id)
            self.put(Participants(m.session_id, payload.user_id, payload.admin_id, None if known is None else known.status))

    def __len__(self) -> int:
        return len(self._entries)


Lookup = Callable[[Principal, int], Awaitable[SessionParticipants | dict[str, Any]]]
"""Ask chat-svc: the participants, or an error ack (not found, timeout, unavailable) to answer with."""
Relay = Callable[[p.ChatTypingRelayed], Awaitable[None]]
"""Publish the relay event to every gateway; raises `PublishFailed` when the broker is unreachable."""


class TypingRelay:
    def __init__(
        self, relay: Relay, cache: ParticipantsCache, lookup: Lookup, throttle: PerSocketLimiter
    ) -> None:
        self._relay = relay
        self._cache = cache
        self._lookup = lookup
        self.throttle = throttle

    async def handle(self, sid: str, principal: Principal, data: Any) -> dict[str, Any]:
        payload = parse_payload(CHAT_TYPING, TypingPayload, data)
        if not self.throttle.allow(sid):
            return ack_error(RATE_LIMITED, "chat:typing: at most one per interval; dropped")
        session = self._cache.get(payload.session_id)
        if session is None:
            found = await self._lookup(principal, payload.session_id)
            if isinstance(found, dict):
                return found
            session = Participants(found.session_id, found.user_id, found.admin_id, found.status)
            self._cache.put(session)
        other = session.other_than(principal)
        if other is None and not _is_participant(session, principal):
            return ack_error(FORBIDDEN, f"not a participant of session {payload.session_id}")
        if session.status == "closed":
            return ack_error(FORBIDDEN, f"session {payload.session_id} is closed")
        if other is not None:
            typing = TypingData(
                session_id=session.session_id, sender_type=principal.user_type, sender_id=principal.user_id
            )
            try:
                await self._relay(p.ChatTypingRelayed(typing=typing, recipient_id=other))
            except PublishFailed as exc:
                return ack_error(UNAVAILABLE, f"typing not relayed: {exc}")
        return ack_ok()


def _is_participant(session: Participants, principal: Principal) -> bool:
    """A user typing in a session no admin has taken yet is a participant with nobody to tell."""
    return not principal.is_admin and principal.user_id == session.user_id
