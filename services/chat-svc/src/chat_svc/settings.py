"""Settings of chat-svc, read from `CHAT_*` environment variables.

The defaults point at the local run (docs/ARCHITECTURE.md, "Ports"); Docker Compose and the test harness
override every URL.
"""

from typing import Annotated

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from servicekit.gctune import GcSettings
from servicekit.jwt import JwtSettings
from servicekit.ratelimit import RateLimit
from servicekit.retention import RetentionSettings
from servicekit.service import BrokerSettings, ServiceSettings


class Settings(ServiceSettings, BrokerSettings, JwtSettings, GcSettings, RetentionSettings):
    """`CHAT_DATABASE_URL`, `CHAT_LOG_LEVEL` and `CHAT_FORWARDED_ALLOW_IPS` (default `["127.0.0.1"]`) come from
    `servicekit.service.ServiceSettings`; `CHAT_AMQP_URL`, `CHAT_PUBLISH_TIMEOUT`, `CHAT_BROKER_MAX_BACKOFF`,
    `CHAT_RELAY_POLL_INTERVAL` and `CHAT_RELAY_MAX_BACKOFF` from `servicekit.service.BrokerSettings`."""

    model_config = SettingsConfigDict(env_prefix="CHAT_", extra="ignore")

    admin_capacity: Annotated[int, Field(ge=1, le=1000)] = 5
    """Active sessions one admin may hold at most (a row in `chat.admins` may override it per admin)."""
    presence_ttl_seconds: Annotated[int, Field(ge=1, le=3600)] = 60
    """How long a gateway known only from `presence.admin_connections_changed` (no heartbeat yet) counts as
    alive; a heartbeat replaces it with the gateway's own `ttl_seconds`."""
    presence_sweep_seconds: Annotated[float, Field(gt=0, le=600)] = 5.0
    """How often expired gateways are forgotten and waiting sessions are offered again."""
    default_priority: Annotated[int, Field(ge=1, le=5)] = 3
    """The queue priority (1-5, 5 first) of every new session. End users cannot choose it (a `priority` they
    send is ignored); admins change it with `PATCH /sessions/{id}`."""
    session_rate_limit: RateLimit = RateLimit(requests=20, per_seconds=60)
    """Per user, `POST /sessions` (open a session or write to the open one): 429 `rate_limited` + Retry-After
    beyond it. JSON in env: `CHAT_SESSION_RATE_LIMIT='{"requests": 20, "per_seconds": 60}'`."""
    message_rate_limit: RateLimit = RateLimit(requests=30, per_seconds=10)
    """Per user (end user or admin), `POST /sessions/{id}/messages`, counted across every session and every
    process of chat-svc (`servicekit.ratelimit`, PostgreSQL)."""
