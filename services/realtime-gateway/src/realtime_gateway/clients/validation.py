"""Client payloads checked against their contract model; a failure becomes an `invalid_payload` error ack
that names the offending field."""

from typing import Any, TypeVar

from contracts.socketio.ack import INVALID_PAYLOAD, ack_error
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)

_MAX_MESSAGE = 1000


class InvalidPayload(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message[:_MAX_MESSAGE]

    def ack(self) -> dict[str, Any]:
        return ack_error(INVALID_PAYLOAD, self.message)


def single_argument(event: str, args: tuple[Any, ...]) -> Any:
    """The one data argument of an event (`socket.emit(event, data, ack)`); none or several are invalid."""
    if len(args) != 1:
        raise InvalidPayload(f"{event} takes exactly one object argument, got {len(args)}")
    return args[0]


def parse_payload(event: str, model: type[M], data: Any) -> M:
    """`data` as `model`, or `InvalidPayload` naming the first bad field ("content: String should ...")."""
    if not isinstance(data, dict):
        raise InvalidPayload(f"{event} payload must be an object, got {_json_type(data)}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            field = ".".join(str(part) for part in error["loc"]) or "payload"
            problems.append(f"{field}: {error['msg']}")
        raise InvalidPayload(f"{event}: " + "; ".join(problems)) from None


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "number", float: "number", str: "string", list: "array"}.get(
        type(value), type(value).__name__
    )
