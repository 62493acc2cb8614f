"""Settings of notification-svc, read from `NOTIFICATION_*` environment variables.

The defaults point at the local run (docs/ARCHITECTURE.md, "Ports"); Docker Compose and the test harness
override every URL. JWT verification settings (`NOTIFICATION_JWKS_URL`, `NOTIFICATION_JWT_ISSUER`,
`NOTIFICATION_JWT_AUDIENCE`) come from servicekit's `JwtSettings`.
"""


from pydantic_settings import SettingsConfigDict
from servicekit.gctune import GcSettings
from servicekit.jwt import JwtSettings
from servicekit.ratelimit import RateLimit
from servicekit.retention import RetentionSettings
from servicekit.service import BrokerSettings, ServiceSettings


class Settings(ServiceSettings, BrokerSettings, JwtSettings, GcSettings, RetentionSettings):
    """`NOTIFICATION_DATABASE_URL`, `NOTIFICATION_LOG_LEVEL` and `NOTIFICATION_FORWARDED_ALLOW_IPS` (default `["127.0.0.1"]`) come from
    `servicekit.service.ServiceSettings`; `NOTIFICATION_AMQP_URL`, `NOTIFICATION_PUBLISH_TIMEOUT`, `NOTIFICATION_BROKER_MAX_BACKOFF`,
    `NOTIFICATION_RELAY_POLL_INTERVAL` and `NOTIFICATION_RELAY_MAX_BACKOFF` from `servicekit.service.BrokerSettings`."""

    model_config = SettingsConfigDict(env_prefix="NOTIFICATION_", extra="ignore")

    send_rate_limit: RateLimit = RateLimit(requests=30, per_seconds=10)
    """Per admin, every creating POST together (`/notifications/send`, `/system/alerts`, `/system/maintenance`,
    `/system/status`), across every process (`servicekit.ratelimit`, PostgreSQL): 429 `rate_limited` +
    Retry-After beyond it. JSON in env: `NOTIFICATION_SEND_RATE_LIMIT='{"requests": 30, "per_seconds": 10}'`."""
