"""Settings of notification-svc, read from `NOTIFICATION_*` environment variables.

The defaults point at the local run (docs/ARCHITECTURE.md, "Ports"); Docker Compose and the test harness
override every URL. JWT verification settings (`NOTIFICATION_JWKS_URL`, `NOTIFICATION_JWT_ISSUER`,
`NOTIFICATION_JWT_AUDIENCE`) come from servicekit's `JwtSettings`.
"""

from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict
from servicekit.forwarded import ForwardedSettings
from servicekit.gctune import GcSettings
from servicekit.jwt import JwtSettings
from servicekit.ratelimit import RateLimit
from servicekit.retention import RetentionSettings


class Settings(JwtSettings, GcSettings, RetentionSettings, ForwardedSettings):
    """`NOTIFICATION_FORWARDED_ALLOW_IPS` (default `["127.0.0.1"]`) comes from
    `servicekit.forwarded.ForwardedSettings`."""

    model_config = SettingsConfigDict(env_prefix="NOTIFICATION_", extra="ignore")

    database_url: str = "postgresql+asyncpg://platform:platform@127.0.0.1:5432/platform"
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["json", "text"] = "json"
    """Log lines as JSON objects (production, log shippers) or as readable text (`./scripts/run` sets text)."""

    publish_timeout: float = Field(5.0, gt=0, description="seconds to wait for the broker's confirm of one event")
    broker_max_backoff: float = Field(5.0, gt=0, description="cap of the wait between RabbitMQ connect attempts")
    relay_poll_interval: float = Field(1.0, gt=0, description="outbox poll period when no NOTIFY arrives")
    relay_max_backoff: float = Field(5.0, gt=0, description="cap of the relay's wait while the broker refuses")
    send_rate_limit: RateLimit = RateLimit(requests=30, per_seconds=10)
    """Per admin, every creating POST together (`/notifications/send`, `/system/alerts`, `/system/maintenance`,
    `/system/status`), across every process (`servicekit.ratelimit`, PostgreSQL): 429 `rate_limited` +
    Retry-After beyond it. JSON in env: `NOTIFICATION_SEND_RATE_LIMIT='{"requests": 30, "per_seconds": 10}'`."""

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value
