"""RabbitMQ topology every service agrees on. The routing key of a domain event is its ``event_type``."""

from typing import Literal

NOTIFICATION_EVENTS_EXCHANGE = "notification.events"
CHAT_EVENTS_EXCHANGE = "chat.events"
PRESENCE_EXCHANGE = "gateway.presence"
"""What gateways publish: presence for chat-svc, and transient relays between gateways (``gateway.*``)."""
COMMANDS_EXCHANGE = "platform.commands"
HEALTH_EXCHANGE = "platform.health"
"""Each service process's heartbeat with its own health verdict (``health.service_heartbeat``), for the gateways.
Nothing durable is bound to it: a heartbeat no gateway hears is dropped by the broker."""
DEAD_LETTER_EXCHANGE = "platform.dlx"

ExchangeType = Literal["topic", "direct", "fanout"]
EXCHANGES: dict[str, ExchangeType] = {
    NOTIFICATION_EVENTS_EXCHANGE: "topic",
    CHAT_EVENTS_EXCHANGE: "topic",
    PRESENCE_EXCHANGE: "topic",
    COMMANDS_EXCHANGE: "topic",
    HEALTH_EXCHANGE: "topic",
    DEAD_LETTER_EXCHANGE: "topic",
}
"""Every exchange, all durable topic exchanges (the dead-letter exchange keeps the original routing key)."""

COMMAND_CHAT_SEND_MESSAGE = "command.chat.send_message"
COMMAND_NOTIFICATION_MARK_READ = "command.notification.mark_read"
COMMAND_CHAT_SESSION_PARTICIPANTS = "command.chat.session_participants"


def routing_key(event_type: str) -> str:
    """The routing key a domain event is published with: its event type."""
    return event_type


def queue_name(service: str, purpose: str) -> str:
    """One durable queue per (consumer service, purpose), e.g. ``gateway.notifications``."""
    return f"{service}.{purpose}"


def dead_letter_queue(queue: str) -> str:
    """The queue that collects what ``queue`` dead-letters (bind it to ``DEAD_LETTER_EXCHANGE``)."""
    return f"{queue}.dlq"
