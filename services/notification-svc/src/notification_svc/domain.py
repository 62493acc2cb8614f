"""Rules of notification-svc, without I/O: who may act, who sees what, and the errors the use cases raise.

Each ``DomainError`` carries an ack code of ``contracts.socketio.ack``; the HTTP boundary (api.py) and the
command boundary (commands.py) each turn it into their own answer in one place.
"""

from collections.abc import Iterator, Sequence

from contracts.identity import Principal
from contracts.socketio.ack import FORBIDDEN, NOT_FOUND

MAX_DB_ID = 2**63 - 1
"""Ids are PostgreSQL bigints: a larger id names nothing (404), it must never reach the database."""


class DomainError(Exception):
    code: str = "invalid_payload"
    message: str = "invalid request"

    def __init__(self, message: str | None = None) -> None:
        self.message = message or type(self).message
        super().__init__(self.message)


class Forbidden(DomainError):
    code = FORBIDDEN
    message = "forbidden: admins only"


class NotificationNotFound(DomainError):
    code = NOT_FOUND

    def __init__(self, notification_id: int) -> None:
        super().__init__(f"notification {notification_id} not found")
        self.notification_id = notification_id


def require_admin(principal: Principal) -> None:
    """Notifications and system messages are for admins only (sending, reading, marking)."""
    if not principal.is_admin:
        raise Forbidden()


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
