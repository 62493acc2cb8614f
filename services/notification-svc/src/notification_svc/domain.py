"""Rules of notification-svc, without I/O: who may act, who sees what, and the errors the use cases raise.

The refusals are ``servicekit.errors`` classes: servicekit turns them into HTTP errors and command error replies,
the same way for every service.
"""

from collections.abc import Iterator, Sequence

from contracts.identity import Principal
from contracts.payloads import NotificationType
from servicekit import errors

MAX_DB_ID = 2**63 - 1
"""Ids are PostgreSQL bigints: a larger id names nothing (404), it must never reach the database."""


class Forbidden(errors.Forbidden):
    message = "forbidden: admins only"


class NotificationNotFound(errors.NotFound):
    def __init__(self, notification_id: int) -> None:
        super().__init__(f"notification {notification_id} not found")
        self.notification_id = notification_id


def require_admin(principal: Principal) -> None:
    """Notifications and system messages are for admins only (sending, reading, marking)."""
    if not principal.is_admin:
        raise Forbidden()


class SupervisorsOnly(errors.Forbidden):
    code = "supervisors_only"


def require_supervisor(principal: Principal, what: str) -> None:
    """Raising an alert and scheduling maintenance speak to everyone: supervisors only (agents get 403
    `supervisors_only`, end users 403 `forbidden`)."""
    require_admin(principal)
    if not principal.is_supervisor:
        raise SupervisorsOnly(f"forbidden: only supervisors {what}")


def is_visible_to(target_user_id: int | None, admin_id: int) -> bool:
    """A notification is an admin's when it is targeted to them or broadcast (no target)."""
    return target_user_id is None or target_user_id == admin_id


def require_db_id(notification_id: int) -> None:
    if not 0 < notification_id <= MAX_DB_ID:
        raise NotificationNotFound(notification_id)


def chunks(ids: Sequence[int], size: int) -> Iterator[list[int]]:
    """``ids`` in consecutive pieces of at most ``size`` (one event per piece, see MAX_BULK_IDS)."""
    if size < 1:
        raise ValueError("chunk size must be positive")
    for start in range(0, len(ids), size):
        yield list(ids[start:start + size])


class TwoTypes(errors.Invalid):
    """``read-all`` got one type in the query and another in the body: which one was meant is not clear."""

    message = "type given twice (query and body) with different values"
    field = "type"


def one_type(in_query: NotificationType | None, in_body: NotificationType | None) -> NotificationType | None:
    if in_query is not None and in_body is not None and in_query != in_body:
        raise TwoTypes()
    return in_query or in_body
