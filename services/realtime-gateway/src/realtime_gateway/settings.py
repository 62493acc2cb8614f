"""Settings of the realtime gateway, read from `GATEWAY_*` environment variables.

Lists come as JSON: `GATEWAY_CORS_ALLOWED_ORIGINS='["http://localhost:3000"]'`. The defaults point at the
local run (docs/ARCHITECTURE.md, "Ports"). JWT settings (`GATEWAY_JWKS_URL`, `GATEWAY_JWT_ISSUER`,
`GATEWAY_JWT_AUDIENCE`) come from servicekit's `JwtSettings`.
"""

import secrets
import socket
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict
from servicekit.jwt import JwtSettings


class Settings(JwtSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    cors_allowed_origins: list[str] = Field(
        default_factory=lambda: ["http://localhost:3000", "http://127.0.0.1:3000"]
    )
    host: str = "127.0.0.1"
    port: int = 8010
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    gateway_id: str | None = None
    """Names this process in presence events and its queues; default `gw-<hostname>-<port>-<random4>`."""
    command_timeout_seconds: float = Field(5.0, gt=0)
    """How long a client command waits for the owning service before the ack says `timeout`."""
    presence_heartbeat_seconds: float = Field(5.0, gt=0)
    """Interval of `presence.gateway_heartbeat`; its `ttl_seconds` is three intervals."""
    rate_limit_per_second: float = Field(10.0, gt=0)
    """Per socket, every client event: a token bucket refilled at this rate..."""
    rate_limit_burst: int = Field(20, gt=0)
    """...holding at most this many tokens."""
    typing_interval_seconds: float = Field(0.5, ge=0)
    """At most one `chat:typing` per socket per interval; extra ones are dropped."""
    dedup_window: int = Field(10_000, gt=0)
    """How many recent `event_id`s are remembered to drop redelivered domain events."""
    participants_cache_size: int = Field(10_000, gt=0)
    """Chat sessions whose participants are cached for routing `chat:typing`."""
    consumer_prefetch: int = Field(64, gt=0)
    websocket_compression: bool = False
    """permessage-deflate on WebSockets. Off: it costs a zlib pass per recipient and ~4x memory per socket."""

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    def resolved_gateway_id(self) -> str:
        """`gateway_id`, or a fresh `gw-<hostname>-<port>-<random4>` (call once per process and keep it)."""
        if self.gateway_id:
            return self.gateway_id
        host = "".join(c if c.isalnum() or c == "-" else "-" for c in socket.gethostname().lower())[:40]
        return f"gw-{host or 'host'}-{self.port}-{secrets.token_hex(2)}"
