"""System module payloads (server -> client): ``system:status_change``, ``system:alert``,
``system:maintenance``. The spec names them without fields; these are the platform's definitions.
``system:token_expired`` is the platform's own addition (one socket, not a broadcast)."""

from typing import Literal

from pydantic import ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from contracts.fields import Content, Id, Outbound, ShortText, Title
from contracts.time import BeijingDatetime

ComponentStatus = Literal["operational", "degraded", "down", "maintenance"]
AlertLevel = Literal["info", "warning", "critical"]
MaintenanceAudience = Literal["admins", "all"]


class StatusData(Outbound):
    """A platform component (e.g. ``chat``, ``notification``) changed its operational status."""

    component: ShortText
    status: ComponentStatus
    message: Content
    changed_at: BeijingDatetime


class AlertData(Outbound):
    """An operational alert for admins."""

    alert_id: Id
    level: AlertLevel
    title: Title
    message: Content
    created_at: BeijingDatetime


class TokenExpiredData(Outbound):
    """Sent to one socket when the access token it connected with expires, right before the gateway
    disconnects it. A client reconnects with a fresh token (the pages renew theirs before this happens)."""

    code: Literal["token_expired"] = "token_expired"
    message: ShortText
    expired_at: BeijingDatetime


class MaintenanceData(Outbound):
    """A scheduled maintenance window; ``ends_at`` is strictly after ``starts_at``."""

    maintenance_id: Id
    title: Title
    message: Content
    starts_at: BeijingDatetime
    ends_at: BeijingDatetime
    audience: MaintenanceAudience

    @model_validator(mode="after")
    def _ends_after_start(self) -> "MaintenanceData":
        if self.ends_at <= self.starts_at:
            error = PydanticCustomError("window_order", "ends_at must be after starts_at")
            detail = InitErrorDetails(type=error, loc=("ends_at",), input=self.ends_at)
            raise ValidationError.from_exception_data(type(self).__name__, [detail])
        return self
