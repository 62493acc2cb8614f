"""The acknowledgement every client -> server event with ``ack_required`` answers with.

``{"ok": true, "data"?: {...}}`` or ``{"ok": false, "error": {"code": "...", "message": "..."}}``.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, Strict, TypeAdapter

from contracts.fields import OptionalData, Outbound

ErrorCodeText = Annotated[str, Strict(), Field(pattern=r"^[a-z][a-z_]*$", max_length=64)]

INVALID_PAYLOAD = "invalid_payload"
UNAUTHORIZED = "unauthorized"
FORBIDDEN = "forbidden"
NOT_FOUND = "not_found"
CONFLICT = "conflict"
RATE_LIMITED = "rate_limited"
UNAVAILABLE = "unavailable"
TIMEOUT = "timeout"
INTERNAL = "internal"
SESSION_CLOSED = "session_closed"
"""``chat:send_message`` into a session that has ended: the client offers a new session instead of a resend."""
IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
"""``chat:send_message`` whose ``client_msg_id`` already names another message: a client bug, never resent."""
ERROR_CODES = frozenset(
    {
        INVALID_PAYLOAD, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, CONFLICT, RATE_LIMITED, UNAVAILABLE, TIMEOUT,
        INTERNAL, SESSION_CLOSED, IDEMPOTENCY_KEY_REUSED,
    }
)  # fmt: skip
"""Codes the platform uses today; ``code`` is an open set of snake_case words so new codes are additive."""


class ErrorInfo(Outbound):
    """A stable machine-readable ``code`` plus a human-readable ``message``."""

    code: ErrorCodeText
    message: Annotated[str, Strict(), Field(max_length=1000)]


class AckOk(Outbound):
    ok: Literal[True]
    data: OptionalData = None


class AckError(Outbound):
    ok: Literal[False]
    error: ErrorInfo


Ack = AckOk | AckError
_ACK = TypeAdapter(Ack)


def ack_ok(data: BaseModel | dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON-ready success ack; a model is dumped in json mode (Beijing time strings, optional fields
    omitted)."""
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json")
    return AckOk(ok=True, data=data).model_dump(mode="json")


def ack_error(code: str, message: str) -> dict[str, Any]:
    """The JSON-ready error ack."""
    return AckError(ok=False, error=ErrorInfo(code=code, message=message)).model_dump(mode="json")


def parse_ack(value: Any) -> AckOk | AckError:
    """Validate an ack received from the server (e.g. in a client or a test)."""
    return _ACK.validate_python(value)
