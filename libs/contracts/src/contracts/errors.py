"""The contract's exceptions. A consumer catches ``ContractError`` to dead-letter or reject a message."""


class ContractError(Exception):
    """Base class: a message does not satisfy the contract."""


class MalformedEnvelope(ContractError):
    """The bytes are not a valid event envelope (bad JSON or missing/invalid envelope fields)."""


class MalformedEventBatch(ContractError):
    """The bytes are not a valid event batch (bad JSON, or not ``{"events": [...]}`` with at least one event)."""


class UnknownEventType(ContractError, KeyError):
    """No contract is registered for this event type."""

    def __init__(self, event_type: str, known: list[str] | None = None) -> None:
        self.event_type = event_type
        hint = f"; known types: {', '.join(sorted(known))}" if known else ""
        super().__init__(f"unknown event type {event_type!r}{hint}")

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class UnsupportedSchemaVersion(ContractError):
    """The event's major schema version is not the one this consumer understands."""

    def __init__(self, event_type: str, schema_version: str, supported_major: int) -> None:
        self.event_type = event_type
        self.schema_version = schema_version
        self.supported_major = supported_major
        super().__init__(
            f"{event_type}: schema_version {schema_version} is not supported; "
            f"this consumer understands {supported_major}.x (any minor)"
        )


class InvalidPayload(ContractError):
    """The envelope is fine but its payload does not validate against the event's payload model."""
