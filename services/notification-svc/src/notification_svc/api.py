"""HTTP routes of notification-svc. Refusals (``servicekit.errors``) become HTTP errors in servicekit.http.

Every route is for admins (``CurrentAdmin``: an end user's token gets 403). Creating POSTs accept an
``Idempotency-Key`` header: a retry with the same key and body returns the first answer and creates nothing
(the use cases decide, in their unit of work, like chat-svc's).
"""

import json
import logging
from typing import Annotated, Any

from contracts.fields import Content, Count, Id, Link, ShortText, Title
from contracts.identity import Principal
from contracts.payloads import (
    AlertData,
    AlertLevel,
    ComponentStatus,
    MaintenanceAudience,
    MaintenanceData,
    NotificationData,
    NotificationType,
    NotificationUpdateData,
    StatusData,
    UnreadByType,
)
from contracts.time import BeijingDatetime
from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from servicekit.http import CurrentAdmin
from servicekit.idempotency import MAX_KEY_LENGTH, IdempotencyKeyReused
from servicekit.openapi import raises
from servicekit.ratelimit import per_user_rate_limit
from servicekit.uow import UnitsOfWork

from notification_svc import notifications, system, unread
from notification_svc.domain import MAX_DB_ID, NotificationNotFound, SupervisorsOnly, TwoTypes, one_type
from notification_svc.send_batch import SendBatcher

log = logging.getLogger(__name__)

MAX_PAGE = 10_000_000
"""Keeps ``(page - 1) * page_size`` inside a bigint offset: a larger page is a 422, not a database error."""


# --- dependencies (set up by the lifespan) ---


async def _work(request: Request) -> UnitsOfWork:
    return request.app.state.work


Work = Annotated[UnitsOfWork, Depends(_work)]


async def _seen_admin(request: Request, admin: CurrentAdmin) -> Principal:
    """The caller, recorded once as an admin who uses the notification API (unread.py: a broadcast announces
    the new badge to every admin recorded so)."""
    state = request.app.state
    if getattr(state, "seen_admins", None) is None:
        state.seen_admins = unread.SeenAdmins()
    await state.seen_admins.record(state.work.engine, admin.user_id)
    return admin


SeenAdmin = Annotated[Principal, Depends(_seen_admin)]


async def _send_batcher(request: Request) -> SendBatcher:
    """The process's group commit of targeted sends (send_batch.py), made on first use (async: FastAPI runs a
    plain function dependency in a worker thread)."""
    state = request.app.state
    if getattr(state, "send_batcher", None) is None:
        state.send_batcher = SendBatcher(state.work.engine, max_batch=state.settings.send_batch_max)
    batcher: SendBatcher = state.send_batcher
    return batcher


SendBatch = Annotated[SendBatcher, Depends(_send_batcher)]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=MAX_KEY_LENGTH,
           description="Optional. A retry with the same key and body returns the first answer, creating nothing."),
]
PageNo = Annotated[int, Query(ge=1, le=MAX_PAGE, description="1-based page number")]
PageSize = Annotated[int, Query(ge=1, le=100)]
NotificationId = Annotated[int, Path(gt=0, description="notification_id")]
SEND_RATE_LIMIT = per_user_rate_limit("notification.send", "send_rate_limit", coalesce=True)
"""Every creating POST of an admin shares one budget (`NOTIFICATION_SEND_RATE_LIMIT`), across processes; one
admin's concurrent POSTs are counted in one transaction (`servicekit.ratelimit.CoalescedHits`)."""


# --- payloads ---


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SendNotificationRequest(_Body):
    type: NotificationType
    title: Title
    content: Content
    # Both default to None but are typed without `| None` (hence the type: ignore[assignment]): a bad value's
    # error then names the field, not a member of a union; `_null_is_absent` turns an explicit null into absent.
    link: Link = Field(None, description="optional; null is the same as leaving it out")  # type: ignore[assignment]
    target_user_id: Id = Field(  # type: ignore[assignment]
        None,
        description=(
            "Omit for a broadcast to every admin. notification-svc does not own accounts, so any positive id "
            "is accepted; the gateway delivers `notification:new` only to the sockets of that user if they are "
            "an admin, and only that admin sees it in their list."
        ),
    )

    @model_validator(mode="before")
    @classmethod
    def _null_is_absent(cls, data: Any) -> Any:
        # Optional fields typed without `| None`: an error then names `link`, not a union member of it.
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (v is None and k in ("link", "target_user_id"))}
        return data

    @field_validator("target_user_id")
    @classmethod
    def _fits_bigint(cls, value: int | None) -> int | None:
        if value is not None and value > MAX_DB_ID:
            raise ValueError(f"must be at most {MAX_DB_ID}")
        return value


class NotificationPage(BaseModel):
    items: list[NotificationData]
    total: Count = Field(description="notifications matching the filters")
    unread_count: Count = Field(description="unread (by the caller) among those matching the filters")
    page: Id
    page_size: Id


class UnreadCount(BaseModel):
    unread_count: Count
    by_type: UnreadByType = Field(description="the unread per type; they sum to `unread_count`")


class ReadAllRequest(_Body):
    type: NotificationType | None = Field(None, description="only notifications of this type; all when absent")


class ArchiveResult(BaseModel):
    notification_id: Id
    is_archived: bool
    is_read: bool = Field(description="archiving marks read; unarchiving leaves it read")


class ReadAllResult(BaseModel):
    updated: Count = Field(description="notifications that were unread and are now read")


class AlertRequest(_Body):
    level: AlertLevel
    title: Title
    message: Content


class MaintenanceRequest(_Body):
    title: Title
    message: Content
    starts_at: BeijingDatetime
    ends_at: BeijingDatetime
    audience: MaintenanceAudience = Field(
        "admins", description="`admins`: admins only; `all`: admins and every connected end user"
    )

    @field_validator("ends_at")
    @classmethod
    def _after_start(cls, value: Any, info: ValidationInfo) -> Any:
        starts_at = info.data.get("starts_at")
        if starts_at is not None and value <= starts_at:
            raise ValueError("ends_at must be after starts_at")
        return value


class StatusRequest(_Body):
    component: ShortText
    status: ComponentStatus
    message: Content


class StatusList(BaseModel):
    items: list[StatusData]


class AlertPage(BaseModel):
    items: list[AlertData]
    total: Count
    page: Id
    page_size: Id


class MaintenancePage(BaseModel):
    items: list[MaintenanceData]
    total: Count
    page: Id
    page_size: Id


# --- notifications ---

router = APIRouter(prefix="/api/v4/notifications", tags=["notifications"])


@router.post(
    "/send", status_code=status.HTTP_201_CREATED, response_model=NotificationData,
    dependencies=[SEND_RATE_LIMIT], responses=raises(IdempotencyKeyReused),
    description=(
        "Admins only. With `target_user_id` the notification is for that admin (event `notification.created`, "
        "pushed by the gateway as `notification:new` to that admin's sockets); without it, for every admin "
        "(pushed as `notification:broadcast`). notification-svc does not own accounts: it accepts any positive "
        "`target_user_id`, and the gateway delivers only if that user is an admin."
    ),
)
async def send(
    body: SendNotificationRequest, admin: SeenAdmin, work: Work, batcher: SendBatch,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    new = notifications.NewNotification(**body.model_dump())
    if new.target_user_id is not None:  # one admin's: the group commit (send_batch.py)
        answer = await batcher.send(admin, new, idempotency_key=idempotency_key)
    else:
        async with work.begin() as uow:
            answer = await notifications.send(uow, admin, new, idempotency_key=idempotency_key)
    log.info("notification sent", extra={"notification_id": answer["notification_id"], "by": admin.user_id})
    # Already NotificationData as JSON (built from the model, or stored from it): written as is, not validated
    # against the response model a second time.
    return Response(json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode(),
                    status_code=status.HTTP_201_CREATED, media_type="application/json")


@router.get("", response_model=NotificationPage,
            description="The caller's notifications (targeted to them and broadcasts), newest first, each with "
                        "the caller's own `is_read`. Archived ones are left out unless `archived=true`, which "
                        "lists only them.")
async def list_notifications(
    admin: SeenAdmin, work: Work, page: PageNo = 1, page_size: PageSize = 20,
    unread_only: bool = False, type: Annotated[NotificationType | None, Query()] = None,
    archived: Annotated[bool, Query(description="true: the caller's archive instead of the inbox")] = False,
) -> NotificationPage:
    async with work.begin() as uow:
        result = await notifications.list_mine(
            uow.db, admin, page=page, page_size=page_size, unread_only=unread_only, type_=type, archived=archived
        )
    return NotificationPage(items=result.items, total=result.total, unread_count=result.unread_count, page=page,
                            page_size=page_size)


@router.get("/unread-count", response_model=UnreadCount,
            description="The caller's unread badge, total and per type, from counters kept with every change (the "
                        "same number `notification:unread_count` pushes).")
async def unread_count(admin: SeenAdmin, work: Work) -> UnreadCount:
    async with work.begin() as uow:
        badge = await notifications.unread_count(uow.db, admin)
    return UnreadCount(unread_count=badge.unread_count, by_type=badge.by_type)


@router.post("/read-all", response_model=ReadAllResult, responses=raises(TwoTypes),
             description="Marks every unread notification of the caller read, or only those of one `type` (query "
                         "`?type=alert` or body `{\"type\": \"alert\"}`); emits `notification.read_state_changed` "
                         "(ids in pieces of at most 1000) and the new badge if any changed.")
async def read_all(
    admin: SeenAdmin, work: Work, type: Annotated[NotificationType | None, Query()] = None,
    body: ReadAllRequest | None = None,
) -> ReadAllResult:
    type_ = one_type(type, body.type if body is not None else None)
    async with work.begin() as uow:
        return ReadAllResult(updated=await notifications.mark_all_read(uow, admin, type_))


@router.get("/{notification_id}", response_model=NotificationData, responses=raises(NotificationNotFound))
async def get_notification(notification_id: NotificationId, admin: SeenAdmin, work: Work) -> Any:
    async with work.begin() as uow:
        return await notifications.get_mine(uow.db, admin, notification_id)


@router.post("/{notification_id}/read", response_model=NotificationUpdateData, responses=raises(NotificationNotFound),
             description="Idempotent: reading an already read notification answers the same and emits nothing. "
                         "404 when the notification does not exist or is targeted to another admin.")
async def mark_read(notification_id: NotificationId, admin: SeenAdmin, work: Work) -> NotificationUpdateData:
    async with work.begin() as uow:
        await notifications.mark_read(uow, admin, notification_id)
    return NotificationUpdateData(notification_id=notification_id, is_read=True)


@router.post("/{notification_id}/unread", response_model=NotificationUpdateData, responses=raises(NotificationNotFound),
             description="Idempotent, the reverse of `/read`.")
async def mark_unread(
    notification_id: NotificationId, admin: SeenAdmin, work: Work
) -> NotificationUpdateData:
    async with work.begin() as uow:
        await notifications.mark_unread(uow, admin, notification_id)
    return NotificationUpdateData(notification_id=notification_id, is_read=False)


@router.post("/{notification_id}/archive", response_model=ArchiveResult, responses=raises(NotificationNotFound),
             description="Hides the notification from the caller's inbox without deleting it, and marks it read "
                         "(\"done\"). Idempotent. Other admins are unaffected.")
async def archive(notification_id: NotificationId, admin: SeenAdmin, work: Work) -> ArchiveResult:
    async with work.begin() as uow:
        await notifications.archive(uow, admin, notification_id)
    return ArchiveResult(notification_id=notification_id, is_archived=True, is_read=True)


@router.post("/{notification_id}/unarchive", response_model=ArchiveResult, responses=raises(NotificationNotFound),
             description="Back to the caller's inbox, still read. Idempotent.")
async def unarchive(notification_id: NotificationId, admin: SeenAdmin, work: Work) -> ArchiveResult:
    async with work.begin() as uow:
        await notifications.unarchive(uow, admin, notification_id)
    return ArchiveResult(notification_id=notification_id, is_archived=False, is_read=True)


# --- system messages ---

system_router = APIRouter(prefix="/api/v4/system", tags=["system"])


@system_router.post("/alerts", status_code=status.HTTP_201_CREATED, response_model=AlertData,
    dependencies=[SEND_RATE_LIMIT], responses=raises(IdempotencyKeyReused, SupervisorsOnly(
                        "forbidden: only supervisors raise alerts")),
                    description="Supervisors only (agents: 403 `supervisors_only`). Event `system.alert_raised` -> "
                                "`system:alert` to every admin.")
async def raise_alert(
    body: AlertRequest, admin: CurrentAdmin, work: Work, idempotency_key: IdempotencyKey = None
) -> Any:
    async with work.begin() as uow:
        return await system.raise_alert(uow, admin, system.NewAlert(**body.model_dump()),
                                        idempotency_key=idempotency_key)


@system_router.get("/alerts", response_model=AlertPage, description="Alerts, newest first.")
async def list_alerts(admin: CurrentAdmin, work: Work, page: PageNo = 1, page_size: PageSize = 20) -> AlertPage:
    async with work.begin() as uow:
        items, total = await system.list_alerts(uow.db, admin, page=page, page_size=page_size)
    return AlertPage(items=items, total=total, page=page, page_size=page_size)


@system_router.post(
    "/maintenance", status_code=status.HTTP_201_CREATED, response_model=MaintenanceData,
    dependencies=[SEND_RATE_LIMIT], responses=raises(IdempotencyKeyReused, SupervisorsOnly(
        "forbidden: only supervisors schedule maintenance")),
    description=(
        "Supervisors only (agents: 403 `supervisors_only`; admins only: end users 403 `forbidden`). Event "
        "`system.maintenance_scheduled` -> `system:maintenance`. Audience `admins`: every "
        "admin; audience `all`: every admin and every end user (maintenance is the one system message end users "
        "receive; alerts and status changes reach admins only)."
    ),
)
async def schedule_maintenance(
    body: MaintenanceRequest, admin: CurrentAdmin, work: Work, idempotency_key: IdempotencyKey = None
) -> Any:
    async with work.begin() as uow:
        return await system.schedule_maintenance(uow, admin, system.NewMaintenance(**dict(body)),
                                                 idempotency_key=idempotency_key)


@system_router.get("/maintenance", response_model=MaintenancePage, description="Maintenance windows, newest first.")
async def list_maintenance(
    admin: CurrentAdmin, work: Work, page: PageNo = 1, page_size: PageSize = 20
) -> MaintenancePage:
    async with work.begin() as uow:
        items, total = await system.list_maintenance(uow.db, admin, page=page, page_size=page_size)
    return MaintenancePage(items=items, total=total, page=page, page_size=page_size)


@system_router.post("/status", status_code=status.HTTP_201_CREATED, response_model=StatusData,
    dependencies=[SEND_RATE_LIMIT], responses=raises(IdempotencyKeyReused),
                    description="Admins only. Records a component's status; event `system.status_changed` -> "
                                "`system:status_change` to every admin.")
async def change_status(
    body: StatusRequest, admin: CurrentAdmin, work: Work, idempotency_key: IdempotencyKey = None
) -> Any:
    async with work.begin() as uow:
        return await system.change_status(uow, admin, system.NewStatus(**body.model_dump()),
                                          idempotency_key=idempotency_key)


@system_router.get("/status", response_model=StatusList,
                   description="The latest status of every component that reported one, by component name.")
async def current_status(admin: CurrentAdmin, work: Work) -> StatusList:
    async with work.begin() as uow:
        return StatusList(items=await system.current_status(uow.db, admin))


# --- routers ---

routers = [router, system_router]
