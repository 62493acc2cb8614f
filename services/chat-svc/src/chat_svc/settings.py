"""Settings of chat-svc, read from `CHAT_*` environment variables.

The defaults point at the local run (docs/ARCHITECTURE.md, "Ports"); Docker Compose and the test harness
override every URL.
"""

from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict
from servicekit.forwarded import ForwardedSettings
from servicekit.gctune import GcSettings
from servicekit.jwt import JwtSettings
from servicekit.ratelimit import RateLimit
from servicekit.retention import RetentionSettings


class Settings(JwtSettings, GcSettings, RetentionSettings, ForwardedSettings):
    """`CHAT_FORWARDED_ALLOW_IPS` (default `["127.0.0.1"]`) comes from `servicekit.forwarded.ForwardedSettings`."""

    model_config = SettingsConfigDict(env_prefix="CHAT_", extra="ignore")

    database_url: str = "postgresql+asyncpg://platform:platform@127.0.0.1:5432/platform"
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["json", "text"] = "json"
    """Log lines as JSON objects (production, log shippers) or as readable text (`./scripts/run` sets text)."""

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

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value
