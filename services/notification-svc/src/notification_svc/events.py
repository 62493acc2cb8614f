"""The domain events notification-svc publishes (all on ``notification.events``, routing key = event type).

Every event is written to the outbox in the transaction of the change it reports (``emit``); the relay started
in main.py publishes it afterwards. notification-svc consumes no events; it answers the
``notification.mark_read`` command (commands.py).

| event type                         | when                                          | aggregate_id       |
|------------------------------------|-----------------------------------------------|--------------------|
| notification.created               | POST /notifications/send                      | notification id    |
| notification.read_state_changed    | a read / unread / read-all actually changed   | ``admin:<user id>``|
| system.alert_raised                | POST /system/alerts                           | ``alert:<id>``     |
| system.maintenance_scheduled       | POST /system/maintenance                      | ``maintenance:<id>``|
| system.status_changed              | POST /system/status                           | ``component:<name>``|
"""

from collections.abc import Sequence

from contracts.events import payloads as p
from contracts.events.registry import (
    NOTIFICATION_CREATED,
    NOTIFICATION_READ_STATE_CHANGED,
    SYSTEM_ALERT_RAISED,
    SYSTEM_MAINTENANCE_SCHEDULED,
    SYSTEM_STATUS_CHANGED,
    new_envelope,
)
from contracts.socketio.payloads import NotificationData
from contracts.socketio.system import AlertData, MaintenanceData, StatusData
from servicekit.outbox import enqueue
from sqlalchemy.ext.asyncio import AsyncConnection

from notification_svc.db import outbox
from notification_svc.domain import chunks

PRODUCER = "notification-svc"


async def notification_created(
    db: AsyncConnection, notification: NotificationData, *, correlation_id: str | None = None
) -> None:
    payload = p.NotificationCreated(notification=notification, target_user_id=notification.target_user_id)
    await _emit(db, NOTIFICATION_CREATED, payload, notification.notification_id, correlation_id)


async def read_state_changed(
    db: AsyncConnection, user_id: int, notification_ids: Sequence[int], *, is_read: bool,
    correlation_id: str | None = None,
) -> None:
    """One event per ``MAX_BULK_IDS`` ids (the contract's bound), nothing when nothing changed."""
    for piece in chunks(sorted(notification_ids), p.MAX_BULK_IDS):
        payload = p.NotificationReadStateChanged(user_id=user_id, notification_ids=piece, is_read=is_read)
        await _emit(db, NOTIFICATION_READ_STATE_CHANGED, payload, f"admin:{user_id}", correlation_id)


async def alert_raised(db: AsyncConnection, alert: AlertData, *, correlation_id: str | None = None) -> None:
    await _emit(db, SYSTEM_ALERT_RAISED, p.SystemAlertRaised(alert=alert), f"alert:{alert.alert_id}",
                correlation_id)


async def maintenance_scheduled(
    db: AsyncConnection, maintenance: MaintenanceData, *, correlation_id: str | None = None
) -> None:
    payload = p.SystemMaintenanceScheduled(maintenance=maintenance)
    await _emit(db, SYSTEM_MAINTENANCE_SCHEDULED, payload, f"maintenance:{maintenance.maintenance_id}",
                correlation_id)


async def status_changed(db: AsyncConnection, status: StatusData, *, correlation_id: str | None = None) -> None:
    await _emit(db, SYSTEM_STATUS_CHANGED, p.SystemStatusChanged(status=status),
                f"component:{status.component}"[:200], correlation_id)


async def _emit(
    db: AsyncConnection, event_type: str, payload: object, aggregate_id: str | int, correlation_id: str | None
) -> None:
    envelope = new_envelope(event_type, PRODUCER, payload, aggregate_id,  # type: ignore[arg-type]
                            correlation_id=correlation_id)
    await enqueue(db, outbox, envelope)
