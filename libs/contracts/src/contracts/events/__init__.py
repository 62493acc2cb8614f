"""Domain events and commands on RabbitMQ: envelope, payloads, registry, topology."""

from contracts.events.commands import CommandMessage, CommandReply, new_command
from contracts.events.envelope import EventEnvelope, parse_envelope
from contracts.events.registry import DOMAIN_EVENTS, DomainEventSpec, new_envelope, parse_domain_event

__all__ = [
    "DOMAIN_EVENTS", "CommandMessage", "CommandReply", "DomainEventSpec", "EventEnvelope", "new_command",
    "new_envelope", "parse_domain_event", "parse_envelope",
]  # fmt: skip
