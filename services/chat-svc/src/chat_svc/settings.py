"""Settings of chat-svc, read from `CHAT_*` environment variables.

The defaults point at the local run (docs/ARCHITECTURE.md, "Ports"); Docker Compose and the test harness
override every URL.
"""

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr
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
    send is ignored); supervisors change it with `PATCH /sessions/{id}`."""
    session_rate_limit: RateLimit = RateLimit(requests=20, per_seconds=60)
    """Per user, `POST /sessions` (open a session or write to the open one): 429 `rate_limited` + Retry-After
    beyond it. JSON in env: `CHAT_SESSION_RATE_LIMIT='{"requests": 20, "per_seconds": 60}'`."""
    message_rate_limit: RateLimit = RateLimit(requests=30, per_seconds=10)
    """Per user (end user or admin), `POST /sessions/{id}/messages`, counted across every session and every
    process of chat-svc (`servicekit.ratelimit`, PostgreSQL)."""
    attachments_storage: Literal["local"] = "local"
    """Where picture attachments are kept: `local` (a directory, `CHAT_ATTACHMENTS_DIR`) is the only store so
    far; an S3-compatible one would be a second value here with its own settings (chat_svc.attachment_store)."""
    attachments_dir: Path = Path(".run/chat-attachments")
    """The local store's directory (created when needed); relative paths are from the working directory.
    Docker Compose mounts a volume at `/var/lib/chat/attachments`."""
    attachment_max_bytes: Annotated[int, Field(ge=1024, le=100 * 1024 * 1024)] = 10 * 1024 * 1024
    """The largest picture upload accepted, in bytes (beyond: 413 `image_too_large`). The edge's
    `client_max_body_size` on the upload route must be a little above it (edge/nginx.conf.template)."""
    attachment_max_pixels: Annotated[int, Field(ge=1, le=200_000_000)] = 40_000_000
    """The most pixels (width x height, read from the file's header before decoding) a picture may have:
    beyond, 422 `image_dimensions_too_large`, so a small file that decodes to gigabytes (a decompression bomb)
    is refused without being decoded."""
    attachment_thumbnail_edge: Annotated[int, Field(ge=16, le=2048)] = 320
    """The longer side of a picture's thumbnail, in pixels."""
    attachment_url_secret: SecretStr | None = None
    """HMAC key of the signed attachment URLs; every chat-svc process of a deployment needs the same one.
    Unset: a random key per process (a warning at start), so URLs signed by one process fail (403) on another."""
    attachment_url_ttl_seconds: Annotated[int, Field(ge=10, le=86_400)] = 600
    """How long a signed attachment URL stays valid; past it, 403 `url_expired` and the client asks for a
    fresh one (`GET .../sessions/{id}/attachments/{attachment_id}`)."""
    attachment_max_concurrent_decodes: Annotated[int, Field(ge=1, le=64)] = 2
    """Pictures one chat-svc process decodes and re-encodes at once (each in a thread, off the event loop);
    further uploads wait their turn. Bounds the memory and CPU uploads can take."""
    attachment_rate_limit: RateLimit = RateLimit(requests=20, per_seconds=60)
    """Per user (end user or admin), `POST /sessions/{id}/attachments`, counted like the other limits."""
    agent_idle_away_seconds: Annotated[int, Field(ge=0, le=86_400)] = 900
    """An agent with a socket open and no activity for this long becomes `away` by itself (and is told by
    `chat:agent_update`, `changed_by: "idle"`); 0 never. Activity: opening the console, setting one's
    availability, and the console's activity ping (`POST /agents/me/activity`, sent on the agent's input at most
    once a minute)."""
    agent_away_policy: Literal["stay", "requeue"] = "stay"
    """What happens to an agent's sessions waiting for a reply (the user's message is the latest) when the agent
    is `away` or offline: `stay` with them, or `requeue`: back to the queue (keeping priority and age) after
    CHAT_AGENT_AWAY_GRACE_SECONDS, with a system message, then offered to the agents online."""
    agent_away_grace_seconds: Annotated[int, Field(ge=0, le=86_400)] = 120
    """Under the `requeue` policy, how long an agent may be `away` or without a socket before their sessions
    waiting for a reply go back to the queue."""
    agent_sweep_seconds: Annotated[float, Field(gt=0, le=600)] = 5.0
    """How often the agents sweep runs: idle agents become `away`, presence changes a gateway did not report
    (an expired gateway) are announced to supervisors, and the away policy is applied."""
