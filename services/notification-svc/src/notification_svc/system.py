"""System messages: alerts, maintenance windows, component status. Each is stored (it gets an id and can be
listed later) and announced by one event in the same transaction.

Who hears what (the gateway maps the events): alerts and status changes reach every admin; a maintenance
window with ``audience == "all"`` reaches end users too, with ``"admins"`` only admins.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts.identity import Principal
from contracts.payloads import (
    AlertData,
    AlertLevel,
    ComponentStatus,
    MaintenanceAudience,
    MaintenanceData,
    StatusData,
)
from servicekit.db import AnyRow
from servicekit.uow import UnitOfWork
from sqlalchemy import Table, func, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncConnection

from notification_svc import events
from notification_svc.db import system_alerts as alerts
from notification_svc.db import system_maintenance as maintenance
from notification_svc.db import system_status_changes as statuses
from notification_svc.domain import require_admin, require_supervisor
from notification_svc.idempotent import create_once


@dataclass(frozen=True)
class NewAlert:
    level: AlertLevel
    title: str
    message: str


@dataclass(frozen=True)
class NewMaintenance:
    title: str
    message: str
    starts_at: datetime
    ends_at: datetime
    audience: MaintenanceAudience


@dataclass(frozen=True)
class NewStatus:
    component: str
    status: ComponentStatus
    message: str


def _alert(row: AnyRow) -> AlertData:
    return AlertData(alert_id=row.id, level=row.level, title=row.title, message=row.message, created_at=row.created_at)


def _maintenance(row: AnyRow) -> MaintenanceData:
    return MaintenanceData(
        maintenance_id=row.id, title=row.title, message=row.message, starts_at=row.starts_at, ends_at=row.ends_at,
        audience=row.audience,
    )


def _status(row: AnyRow) -> StatusData:
    return StatusData(component=row.component, status=row.status, message=row.message, changed_at=row.changed_at)


async def raise_alert(
    uow: UnitOfWork, admin: Principal, new: NewAlert, *, idempotency_key: str | None = None
) -> dict[str, Any]:
    require_supervisor(admin, "raise alerts")

    async def create() -> AlertData:
        row = (
            await uow.db.execute(
                alerts.insert().values(level=new.level, title=new.title, message=new.message, created_by=admin.user_id)
                .returning(alerts)
            )
        ).one()
        alert = _alert(row)
        await events.alert_raised(uow, alert)
        return alert

    return await create_once(uow, admin, idempotency_key, "system.alert", new, create)


async def schedule_maintenance(
    uow: UnitOfWork, admin: Principal, new: NewMaintenance, *, idempotency_key: str | None = None
) -> dict[str, Any]:
    require_supervisor(admin, "schedule maintenance")

    async def create() -> MaintenanceData:
        row = (
            await uow.db.execute(
                maintenance.insert()
                .values(title=new.title, message=new.message, starts_at=new.starts_at, ends_at=new.ends_at,
                        audience=new.audience, created_by=admin.user_id)
                .returning(maintenance)
            )
        ).one()
        window = _maintenance(row)
        await events.maintenance_scheduled(uow, window)
        return window

    return await create_once(uow, admin, idempotency_key, "system.maintenance", new, create)


async def change_status(
    uow: UnitOfWork, admin: Principal, new: NewStatus, *, idempotency_key: str | None = None
) -> dict[str, Any]:
    require_admin(admin)

    async def create() -> StatusData:
        row = (
            await uow.db.execute(
                statuses.insert()
                .values(component=new.component, status=new.status, message=new.message, created_by=admin.user_id)
                .returning(statuses)
            )
        ).one()
        status = _status(row)
        await events.status_changed(uow, status)
        return status

    return await create_once(uow, admin, idempotency_key, "system.status", new, create)


async def current_status(db: AsyncConnection, admin: Principal) -> list[StatusData]:
    """The latest status of every component that ever reported one, by component name."""
    require_admin(admin)
    latest = (
        select(statuses)
        .ext(distinct_on(statuses.c.component))
        .order_by(statuses.c.component, statuses.c.id.desc())
    )
    return [_status(row) for row in (await db.execute(latest)).all()]


async def _page(db: AsyncConnection, table: Table, page: int, page_size: int) -> tuple[Sequence[AnyRow], int]:
    rows = (
        await db.execute(select(table).order_by(table.c.id.desc()).limit(page_size).offset((page - 1) * page_size))
    ).all()
    total = (await db.execute(select(func.count()).select_from(table))).scalar_one()
    return rows, total


async def list_alerts(db: AsyncConnection, admin: Principal, *, page: int, page_size: int) -> tuple[list[AlertData], int]:
    require_admin(admin)
    rows, total = await _page(db, alerts, page, page_size)
    return [_alert(r) for r in rows], total


async def list_maintenance(
    db: AsyncConnection, admin: Principal, *, page: int, page_size: int
) -> tuple[list[MaintenanceData], int]:
    require_admin(admin)
    rows, total = await _page(db, maintenance, page, page_size)
    return [_maintenance(r) for r in rows], total
