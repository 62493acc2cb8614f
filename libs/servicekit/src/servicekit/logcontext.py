"""The ids in play for the current task, bound with contextvars so every log line carries them.

    with bind(request_id=rid, event_id=str(envelope.event_id)):
        log.info("delivered")        # -> {"message": "delivered", "request_id": ..., "event_id": ...}

A binding lasts until its `with` block ends and is seen by everything awaited inside it, including tasks
created there (they copy the context). Known keys are listed in `IDS`; others are accepted too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any

IDS = ("request_id", "event_id", "correlation_id", "session_id", "user_id")
"""The ids a log line carries when known (one notification or chat message is found by any of them)."""

_bound: ContextVar[Mapping[str, Any]] = ContextVar("servicekit_log_context", default=MappingProxyType({}))

_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


def bound() -> Mapping[str, Any]:
    """What is bound now (read-only)."""
    return _bound.get()


def request_id() -> str | None:
    value = _bound.get().get("request_id")
    return str(value) if value is not None else None


@contextmanager
def bind(**ids: Any) -> Iterator[None]:
    """Add `ids` (None values are skipped) for the duration of the block."""
    values = {k: v for k, v in ids.items() if v is not None}
    if not values:
        yield
        return
    token = _bound.set({**_bound.get(), **values})
    try:
        yield
    finally:
        _bound.reset(token)


def add(**ids: Any) -> None:
    """Add `ids` for the rest of the current task's context without a block: for what is learnt in the middle of
    a request (the caller's user id, once the token is verified). The request's `bind` (servicekit.requestid)
    drops it when the request ends."""
    values = {k: v for k, v in ids.items() if v is not None}
    if values:
        _bound.set({**_bound.get(), **values})


def valid_request_id(value: str | None) -> str | None:
    """`value` if it is a usable request id (1-128 of letters, digits, `._:-`), else None: a caller's header never
    puts spaces, quotes or control characters into a log line or a response header."""
    if value and _REQUEST_ID.match(value):
        return value
    return None


def new_request_id() -> str:
    """32 random hex digits (a uuid4's shape without building a UUID: a quarter of its cost; the gateway makes
    one per handshake for its 101 response)."""
    return os.urandom(16).hex()
