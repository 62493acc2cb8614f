"""Every contract model that gets a generated schema, grouped by where it travels."""

from pydantic import BaseModel

from contracts.events.commands import (
    CommandBatch,
    CommandMessage,
    CommandReply,
    CommandReplyBatch,
    SessionParticipants,
    SessionRef,
)
from contracts.events.envelope import EventEnvelope
from contracts.events.registry import DOMAIN_EVENTS
from contracts.payloads.system_text import SYSTEM_TEXT_MODELS
from contracts.socketio.ack import AckError, AckOk
from contracts.socketio.events import LEGACY_EVENTS, SOCKET_EVENTS


def _unique(models: list[type[BaseModel]]) -> list[type[BaseModel]]:
    return sorted(set(models), key=lambda m: m.__name__)


SOCKET_MODELS: list[type[BaseModel]] = _unique(
    [s.payload_model for s in SOCKET_EVENTS.values()] + list(LEGACY_EVENTS.values()) + [AckOk, AckError]
)
DOMAIN_MODELS: list[type[BaseModel]] = _unique([s.payload_model for s in DOMAIN_EVENTS.values()])
MESSAGING_MODELS: list[type[BaseModel]] = [
    CommandMessage, CommandReply, EventEnvelope, SessionParticipants, SessionRef, CommandBatch, CommandReplyBatch,
]  # fmt: skip
ALL_MODELS: list[type[BaseModel]] = _unique(SOCKET_MODELS + DOMAIN_MODELS + MESSAGING_MODELS + SYSTEM_TEXT_MODELS)

_names = [m.__name__ for m in ALL_MODELS]
assert len(set(_names)) == len(_names), f"two contract models share a name: {_names}"
