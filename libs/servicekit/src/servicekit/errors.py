"""The refusals every service raises: one ``DomainError`` hierarchy, one status class per kind of "no".

A use case raises ``NotFound("session 7 not found")`` or a subclass with its own ``code``; it never thinks in
HTTP or in socket acks. The boundaries translate, each in one place for every service:

- HTTP (``servicekit.http``): status = the class's ``status``, body ``{"error": {"code", "message",
  "details"?}}``, plus ``headers`` (``TooMany`` adds ``Retry-After``).
- Socket commands (``servicekit.commands``): ``{ok: false, error: {code, message}}`` with the ack code of
  ``contracts.socketio.ack`` for the status (``ack_code``), or the error's own code when it is more precise
  (``session_closed``, ``admin_offline``).

No FastAPI, no database: importable by every layer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contracts.socketio.ack import (
    CONFLICT,
    FORBIDDEN,
    INVALID_PAYLOAD,
    NOT_FOUND,
    RATE_LIMITED,
    UNAUTHORIZED,
    UNAVAILABLE,
)
from pydantic import BaseModel, Field


class ErrorInfo(BaseModel):
    code: str = Field(description="Stable: clients branch on it (`not_found`, `session_closed`, ...)")
    message: str = Field(description="Why, for a person")
    details: Any = Field(None, description="What was at fault, when known (for `validation_error`: a list of "
                                           "`{field, in, message, type}`); absent otherwise")


class ErrorBody(BaseModel):
    """Every error answer of every service (HTTP status >= 400): ``{"error": {"code", "message", "details"?}}``."""

    error: ErrorInfo

    @classmethod
    def of(cls, code: str, message: str, details: Any = None) -> dict[str, Any]:
        """The JSON body; ``details`` is left out when None."""
        fields: dict[str, Any] = {"code": code, "message": message}
        if details is not None:
            fields["details"] = details
        return cls(error=ErrorInfo.model_validate(fields)).model_dump(mode="json", exclude_unset=True)


class DomainError(Exception):
    """A rule said no. ``code`` is stable (clients branch on it), ``message`` says why to a person, ``details``
    (JSON-able, optional) names what was at fault. Subclass with class attributes, or pass ``code=`` for a
    one-off code within a status class: ``Conflict("admin 3 is not online", code="admin_offline")``."""

    status: int = 400
    code: str = "bad_request"
    message: str = "bad request"
    precise_ack: bool = False
    """True: a socket ack carries ``code`` itself, not its status class's code (``ack_code``)."""

    def __init__(
        self, message: str | None = None, *, code: str | None = None, details: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.code = code or type(self).code
        self.message = message or type(self).message
        self.details = details
        self.headers: dict[str, str] = dict(headers or {})
        super().__init__(self.message)


class BadRequest(DomainError):
    status, code, message = 400, "bad_request", "bad request"


class Unauthorized(DomainError):
    status, code, message = 401, "unauthorized", "unauthorized"


class Forbidden(DomainError):
    status, code, message = 403, "forbidden", "forbidden"


class NotFound(DomainError):
    status, code, message = 404, "not_found", "not found"


class Conflict(DomainError):
    """The request is fine, but the current state refuses it (``code`` says which state)."""

    status, code, message = 409, "conflict", "conflict"


class Invalid(DomainError):
    """The input breaks a rule the request schema could not express. ``field`` (a class attribute or an
    argument) fills ``details`` as ``[{"field", "in": where, "message"}]`` unless details are given."""

    status, code, message = 422, "validation_error", "invalid request"
    field: str | None = None
    where: str = "body"

    def __init__(
        self, message: str | None = None, *, field: str | None = None, code: str | None = None, details: Any = None,
    ) -> None:
        self.field = field or type(self).field
        super().__init__(message, code=code, details=details)
        if self.details is None and self.field is not None:
            self.details = [{"field": self.field, "in": self.where, "message": self.message}]


class TooMany(DomainError):
    """Too many attempts or requests: answered with ``Retry-After: retry_after`` (whole seconds, at least 1)."""

    status, code, message = 429, "too_many_requests", "too many requests"

    def __init__(
        self, message: str | None = None, *, retry_after: int, code: str | None = None, details: Any = None,
    ) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(message, code=code, details=details, headers={"Retry-After": str(self.retry_after)})


class Unavailable(DomainError):
    """Something this service needs is down for now: the caller should retry."""

    status, code, message = 503, "unavailable", "unavailable, try again shortly"


class DatabaseUnavailable(Unavailable):
    """PostgreSQL is restarting or failing over (servicekit.http answers it for any route that touched it)."""

    status, code, message = 503, "database_unavailable", "database unavailable, try again shortly"


_ACK_CODES = {401: UNAUTHORIZED, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT, 422: INVALID_PAYLOAD,
              429: RATE_LIMITED, 503: UNAVAILABLE}
_PRECISE = (409,)
"""Statuses whose own codes are more useful to a socket client than the class's (session_closed, not_waiting)."""


def ack_code(error: DomainError) -> str:
    """The socket ack code (``contracts.socketio.ack``) for ``error``: the status class's code, except for
    conflicts, which keep their precise code (``session_closed``, ``admin_offline``)."""
    if error.precise_ack or error.status in _PRECISE or error.status not in _ACK_CODES:
        return error.code
    return _ACK_CODES[error.status]
