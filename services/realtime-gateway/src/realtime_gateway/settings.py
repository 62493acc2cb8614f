"""Settings of the realtime gateway, read from `GATEWAY_*` environment variables.

Lists come as JSON: `GATEWAY_CORS_ALLOWED_ORIGINS='["http://localhost:3000"]'`. The defaults point at the
local run (docs/ARCHITECTURE.md, "Ports"). JWT settings (`GATEWAY_JWKS_URL`, `GATEWAY_JWT_ISSUER`,
`GATEWAY_JWT_AUDIENCE`) come from servicekit's `JwtSettings`.
"""

import secrets
import socket
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict
from servicekit.forwarded import ForwardedSettings
from servicekit.gctune import GcSettings
from servicekit.jwt import JwtSettings


class Settings(JwtSettings, GcSettings, ForwardedSettings):
    """`gc_gen0_threshold` (GATEWAY_GC_GEN0_THRESHOLD) comes from `servicekit.gctune.GcSettings`;
    `forwarded_allow_ips` (GATEWAY_FORWARDED_ALLOW_IPS, default `["127.0.0.1"]`: the peers whose `X-Forwarded-For`
    names the client, i.e. the edge) from `servicekit.forwarded.ForwardedSettings`."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    """RabbitMQ (AMQP 0-9-1 URL, vhost at the end)."""
    cors_allowed_origins: list[str] = Field(
        default_factory=lambda: [
            "http://localhost:3000", "http://127.0.0.1:3000", "https://localhost:3443", "https://127.0.0.1:3443",
        ]
    )
    """Browser origins allowed to open a Socket.IO connection (JSON list; the edge's origins in production, plain
    and HTTPS). A request with no `Origin` header at all is accepted: browsers always send one on a cross-origin
    or WebSocket request, so its absence means a non-browser client (the WeChat mini program's `wx.connectSocket`,
    a native app), which CORS does not concern; the token is what admits it."""
    host: str = "127.0.0.1"
    """Address the gateway listens on (`--host` overrides it)."""
    port: int = 8010
    """Port the gateway listens on (`--port` overrides it)."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    """Level of the service's own log lines (DEBUG, INFO, WARNING, ERROR, CRITICAL; any case)."""
    log_format: Literal["json", "text"] = "json"
    """Log lines as JSON objects (production, log shippers) or as readable text (`./scripts/run` sets text)."""

    gateway_id: str | None = None
    """Names this process in presence events and its queues; default `gw-<hostname>-<port>-<random4>`."""
    command_timeout_seconds: float = Field(5.0, gt=0)
    """How long a client command waits for the owning service before the ack says `timeout`."""
    command_batch: bool = True
    """Commands for the same service issued in one pass of the event loop go out as one AMQP message (a command
    batch; fewer messages per chat message). Set false during a rolling upgrade until every service is of a version
    that reads batches (chat-svc and notification-svc first, then the gateways)."""
    command_batch_max: int = Field(64, ge=2)
    """At most this many commands in one batch message (with `command_batch`)."""
    presence_heartbeat_seconds: float = Field(5.0, gt=0)
    """Interval of `presence.gateway_heartbeat`; its `ttl_seconds` is three intervals."""
    rate_limit_per_second: float = Field(10.0, gt=0)
    """Per socket, every client event: a token bucket refilled at this rate..."""
    rate_limit_burst: int = Field(20, gt=0)
    """...holding at most this many tokens."""
    user_rate_limit_per_second: float = Field(20.0, gt=0)
    """Per account, across all of its sockets on this gateway: a second bucket every client event also costs
    (`rate_limited` when empty; other accounts unaffected)..."""
    user_rate_limit_burst: int = Field(40, gt=0)
    """...holding at most this many tokens."""
    max_sockets_per_user: int = Field(20, gt=0)
    """Socket.IO connections one account may hold on this gateway; one more gets a `connect_error` "too many
    connections" with `data.code` `too_many_connections`."""
    max_connections_per_address: int = Field(100, gt=0)
    """Engine.IO connections (polling or websocket, authenticated or not yet) from one client address on this
    gateway; a handshake beyond it gets 429 `too_many_connections`. The address is the edge's
    `X-Forwarded-For` when the peer is in `forwarded_allow_ips`, else the peer's."""
    typing_interval_seconds: float = Field(0.5, ge=0)
    """At most one `chat:typing` per socket per interval; extra ones are dropped."""
    dedup_window: int = Field(10_000, gt=0)
    """How many recent `event_id`s are remembered to drop redelivered domain events."""
    participants_cache_size: int = Field(10_000, gt=0)
    """Chat sessions whose participants are cached for routing `chat:typing`."""
    consumer_prefetch: int = Field(64, gt=0)
    """Domain events RabbitMQ hands the gateway's consumer before it acknowledges them (basic.qos prefetch)."""
    websocket_compression: bool = False
    """permessage-deflate on WebSockets. Off: it costs a zlib pass per recipient and ~4x memory per socket."""
    fanout_fast_path: bool = True
    """Broadcasts as one WebSocket frame written straight to each recipient's transport (`transport/fanout.py`)."""
    lean_websocket_sessions: bool = True
    """Sockets that open directly on websocket run with one task each, writes pushed to the transport and pings from
    one timer wheel (`transport/websocket_session.py`); off: engine.io's stock handler (4 more tasks, 3 timers)."""
    detached_websockets: bool = True
    """With lean sessions and without deflate: each websocket is taken over from aiohttp after its handshake and its
    request handler returns (`transport/detached_websocket.py`): no task, no coroutine, no HTTP request state per
    open socket. Off: the socket is served from its request's task (`serve_websocket`)."""
    fast_handshake: bool = True
    """With lean and detached websockets: a socket that opens directly on websocket
    (`GET /socket.io/?EIO=4&transport=websocket`, no `sid`) is served from the connection's first bytes without aiohttp's request machinery
    (`transport/fast_handshake.py`); any other request, and any handshake the fast path would not accept, is
    aiohttp's as before. Off: every connection is aiohttp's."""
    coalesce_writes: bool = True
    """Frames written directly to one socket in one turn of the event loop leave in one `transport.write` (one
    system call) instead of one each (`transport/coalesced_writes.py`); off: each frame is written at once."""
    send_buffer_limit_bytes: int = Field(64 * 1024, gt=0)
    """A socket whose transport holds more unsent bytes than this is under backpressure: its packets queue."""
    send_queue_limit: int = Field(1000, gt=0)
    """A socket with more packets queued than this does not read: it is disconnected (`slow consumer`)."""
    event_loop: Literal["auto", "asyncio", "uvloop"] = "auto"
    """`auto`: uvloop when installed, else asyncio's loop."""

    recovery_secret: SecretStr | None = None
    """HMAC key of the recovery ids (`pid`) handed out at CONNECT; every gateway of a deployment needs the same
    one. Unset: a fixed development key, with a loud warning at start."""
    recovery_window_seconds: float = Field(120.0, gt=0)
    """A client that reconnects with a position (its last event's offset, or its connect) at most this old gets
    what it missed (`socket.recovered === true`); older: a new session, and the page reloads its lists."""
    recovery_replay_timeout_seconds: float = Field(5.0, gt=0)
    """Bound on reading the missed events from the stream during one reconnect; beyond it: not recovered."""
    stream_max_age_seconds: int = Field(600, gt=0)
    """`x-max-age` of the durable event stream `gateway.events.stream` (must cover the recovery window; every
    gateway of a deployment declares it with the same value)."""
    drain_seconds: float = Field(5.0, ge=0)
    """On SIGTERM: refuse new handshakes (503) and disconnect this gateway's sockets in batches spread over this
    many seconds (they reconnect elsewhere and recover), then exit."""
    connect_timeout_seconds: float = Field(45.0, gt=0)
    """An Engine.IO connection not connected to a Socket.IO namespace this long after its handshake (no CONNECT,
    or a refused one) is closed, like Node's socket.io `connectTimeout`."""
    listen_backlog: int = Field(4096, ge=1, le=65535)
    """TCP connections the kernel completes and holds for the gateway to accept (the listen backlog; Linux caps it
    at `net.core.somaxconn`, 4096 on current kernels). When it overflows, as in a reconnect storm after a restart
    with aiohttp's default of 128, the kernel drops handshakes and the clients' kernels try again after 1 s, then 3
    s. Node's http server uses 511."""
    http_idle_timeout_seconds: float = Field(60.0, gt=0)
    """A TCP connection that has sent no complete HTTP request for this long (nothing at all, a slow request
    head, an idle keep-alive) is closed. Open WebSockets and pending long-polls are not idle."""
    protocol_log_interval_seconds: float = Field(60.0, gt=0)
    """A connection closed for breaking the protocol is logged (WARNING, no stack trace) at most once per client
    address per interval; the next line counts the ones not logged."""

    status_degraded_after_seconds: float = Field(10.0, ge=0)
    """Without RabbitMQ this long, the gateway tells its admins' sockets that it is `degraded`
    (`system:status_change`, component `realtime-gateway`); a shorter loss is not reported."""
    status_operational_after_seconds: float = Field(30.0, ge=0)
    """After a reported loss, RabbitMQ must be back this long before the gateway reports `operational` again, so
    a flapping link gives one banner, not one per flap."""
    status_check_seconds: float = Field(1.0, gt=0)
    """How often the gateway looks at its RabbitMQ link and the services' heartbeats for the statuses above and
    below."""
    status_services: list[str] = Field(default_factory=lambda: ["auth-svc", "notification-svc", "chat-svc"])
    """The platform services whose heartbeats (`health.service_heartbeat`, `<PREFIX>_HEARTBEAT_SECONDS`) this
    gateway watches; one not heard from, or heard only saying it is unhealthy, is reported to its admins
    (`system:status_change`, component = the service). Empty: no service is watched."""
    service_degraded_after_seconds: float = Field(10.0, ge=0)
    """A service counts as down once none of its processes' heartbeats says healthy within that heartbeat's TTL
    (3 heartbeat intervals); down this much longer, it is reported `degraded` (code `service_unavailable`)."""
    service_startup_grace_seconds: float = Field(30.0, ge=0)
    """A service not heard from since this gateway started counts as up for this long after the gateway can
    listen (the platform's processes start together; a service migrating its schema beats later), then as down."""
    service_operational_after_seconds: float = Field(15.0, ge=0)
    """After a reported loss, the service must be up this long before it is reported `operational` again
    (`service_restored`), so a flapping service gives one change each way."""

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _stream_keeps_the_window(self) -> "Settings":
        if self.stream_max_age_seconds < self.recovery_window_seconds:
            raise ValueError("stream_max_age_seconds must be at least recovery_window_seconds")
        return self

    def resolved_gateway_id(self) -> str:
        """`gateway_id`, or a fresh `gw-<hostname>-<port>-<random4>` (call once per process and keep it)."""
        if self.gateway_id:
            return self.gateway_id
        host = "".join(c if c.isalnum() or c == "-" else "-" for c in socket.gethostname().lower())[:40]
        return f"gw-{host or 'host'}-{self.port}-{secrets.token_hex(2)}"
