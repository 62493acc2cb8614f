"""The domain events notification-svc publishes (all on ``notification.events``, routing key = event type).

Every event is written to the outbox in the unit of work of the change it reports (servicekit.uow, carrying
its correlation id); the relay started
in main.py publishes it afterwards. notification-svc consumes ``chat.message_left`` (left_messages.py: a user's
message nobody can take now becomes ``notification.created`` for the admins chat-svc names) and answers the
``notification.mark_read`` command (commands.py).

| event type                         | when                                          | aggregate_id       |
|------------------------------------|-----------------------------------------------|--------------------|
| notification.created               | POST /notifications/send                      | notification id    |
| notification.read_state_changed    | a read / unread / read-all actually changed   | ``admin:<user id>``|
| system.alert_raised                | POST /system/alerts                           | ``alert:<id>``     |
| system.maintenance_scheduled       | POST /system/maintenance                      | ``maintenance:<id>``|
| system.status_changed              | POST /system/status                           | ``component:<name>``|
| notification.unread_counts_changed | a change of some admins' unread badges (unread.py) | ``admin:<id>`` / ``admins`` |
"""

from collections.abc import Sequence

from contracts.events import payloads as p
from contracts.events.registry import (
    NOTIFICATION_CREATED,
    NOTIFICATION_READ_STATE_CHANGED,
    NOTIFICATION_UNREAD_COUNTS_CHANGED,
    SYSTEM_ALERT_RAISED,
    SYSTEM_MAINTENANCE_SCHEDULED,
    SYSTEM_STATUS_CHANGED,
)
from contracts.payloads import AlertData, MaintenanceData, NotificationData, StatusData, UnreadCountData
from pydantic import BaseModel
from servicekit.uow import UnitOfWork

from notification_svc.domain import chunks


async def notification_created(uow: UnitOfWork, notification: NotificationData) -> None:
    payload = p.NotificationCreated(notification=notification, target_user_id=notification.target_user_id)
    await _emit(uow, NOTIFICATION_CREATED, payload, notification.notification_id)


async def read_state_changed(
    uow: UnitOfWork, user_id: int, notification_ids: Sequence[int], *, is_read: bool
) -> None:
    """One event per ``MAX_BULK_IDS`` ids (the contract's bound), nothing when nothing changed."""
    for piece in chunks(sorted(notification_ids), p.MAX_BULK_IDS):
        payload = p.NotificationReadStateChanged(user_id=user_id, notification_ids=piece, is_read=is_read)
        await _emit(uow, NOTIFICATION_READ_STATE_CHANGED, payload, f"admin:{user_id}")


async def unread_counts_changed(uow: UnitOfWork, badges: dict[int, UnreadCountData]) -> None:
    """One event per ``MAX_BULK_IDS`` admins; aggregate ``admin:<id>`` for one admin, ``admins`` for several."""
    ids = sorted(badges)
    for piece in chunks(ids, p.MAX_BULK_IDS):
        counts = [p.AdminUnreadCount(user_id=user_id, **badges[user_id].model_dump()) for user_id in piece]
        aggregate = f"admin:{piece[0]}" if len(ids) == 1 else "admins"
        await _emit(uow, NOTIFICATION_UNREAD_COUNTS_CHANGED, p.NotificationUnreadCountsChanged(counts=counts), aggregate)


async def alert_raised(uow: UnitOfWork, alert: AlertData) -> None:
    await _emit(uow, SYSTEM_ALERT_RAISED, p.SystemAlertRaised(alert=alert), f"alert:{alert.alert_id}")


async def maintenance_scheduled(uow: UnitOfWork, maintenance: MaintenanceData) -> None:
    payload = p.SystemMaintenanceScheduled(maintenance=maintenance)
    await _emit(uow, SYSTEM_MAINTENANCE_SCHEDULED, payload, f"maintenance:{maintenance.maintenance_id}")


async def status_changed(uow: UnitOfWork, status: StatusData) -> None:
    await _emit(uow, SYSTEM_STATUS_CHANGED, p.SystemStatusChanged(status=status),
                f"component:{status.component}"[:200])


async def _emit(uow: UnitOfWork, event_type: str, payload: BaseModel, aggregate_id: str | int) -> None:
    await uow.publish(event_type, payload, aggregate_id)
