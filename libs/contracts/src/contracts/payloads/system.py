"""The system module's data: a component's status, an alert, a maintenance window. notification-svc's REST API
takes and answers with them, its domain events carry them, and the gateway pushes them to Socket.IO clients
(``system:status_change``, ``system:alert``, ``system:maintenance``). The spec names those events without
fields; these are the platform's definitions."""

from typing import Literal

from pydantic import ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from contracts.fields import Content, Id, Outbound, ShortText, Title
from contracts.payloads.system_text import OptionalParams, OptionalSystemCode, check_system_text
from contracts.time import BeijingDatetime

ComponentStatus = Literal["operational", "degraded", "down", "maintenance"]
AlertLevel = Literal["info", "warning", "critical"]
MaintenanceAudience = Literal["admins", "all"]


class StatusData(Outbound):
    """A platform component (e.g. ``chat``, ``notification``) changed its operational status. A change the
    platform detects itself (a gateway losing RabbitMQ) may carry ``code`` + ``params``
    (contracts.payloads.system_text): clients render the message in their language, ``message`` is the fallback."""

    component: ShortText
    status: ComponentStatus
    message: Content
    changed_at: BeijingDatetime
    code: OptionalSystemCode = None
    params: OptionalParams = None

    @model_validator(mode="after")
    def _params_fit_their_code(self) -> "StatusData":
        check_system_text(self, self.code, self.params, code_field="code", params_field="params")
        return self


class AlertData(Outbound):
    """An operational alert for admins. An alert the platform raises itself may carry ``code`` + ``params``
    (contracts.payloads.system_text): clients render the message in their language, ``message`` is the
    fallback."""

    alert_id: Id
    level: AlertLevel
    title: Title
    message: Content
    created_at: BeijingDatetime
    code: OptionalSystemCode = None
    params: OptionalParams = None

    @model_validator(mode="after")
    def _params_fit_their_code(self) -> "AlertData":
        check_system_text(self, self.code, self.params, code_field="code", params_field="params")
        return self


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
