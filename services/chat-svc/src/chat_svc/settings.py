"""Settings of chat-svc, read from `CHAT_*` environment variables.

The defaults point at the local run (docs/ARCHITECTURE.md, "Ports"); Docker Compose and the test harness
override every URL.
"""

from pathlib import Path
from typing import Annotated, Literal, Self

from contracts.payloads.system_text import Locale
from pydantic import Field, SecretStr, model_validator
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
    """The queue priority (1-5, 5 first) of every new session (a VIP customer's: `CHAT_VIP_PRIORITY`). End users
    cannot choose it (a `priority` they send is ignored); supervisors change it with `PATCH /sessions/{id}`."""
    session_rate_limit: RateLimit = RateLimit(requests=20, per_seconds=60)
    """Per user, `POST /sessions` (open a session or write to the open one): 429 `rate_limited` + Retry-After
    beyond it. JSON in env: `CHAT_SESSION_RATE_LIMIT='{"requests": 20, "per_seconds": 60}'`."""
    message_rate_limit: RateLimit = RateLimit(requests=30, per_seconds=10)
    """Per user (end user or admin), `POST /sessions/{id}/messages`, counted across every session and every
    process of chat-svc (`servicekit.ratelimit`, PostgreSQL)."""
    attachments_storage: Literal["local", "s3"] = "local"
    """Where picture attachments are kept: `local` (a directory, `CHAT_ATTACHMENTS_DIR`) or `s3` (a bucket of an
    S3-compatible object store: AWS S3, MinIO, Aliyun OSS, Tencent COS, ...; the `CHAT_S3_*` settings, at least
    `CHAT_S3_BUCKET`). Either way pictures are served by chat-svc through its signed URLs; the bucket stays private."""
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
    unsent_attachment_hours: Annotated[float, Field(gt=0)] = 24
    """A picture uploaded and not sent in a message within this many hours is deleted, row and files
    (chat_svc.attachment_cleanup; a sent picture stays as long as its message)."""
    attachment_rate_limit: RateLimit = RateLimit(requests=20, per_seconds=60)
    """Per user (end user or admin), `POST /sessions/{id}/attachments`, counted like the other limits."""
    system_text_locale: Locale = "zh-CN"
    """The language of the fallback text of system messages (`message_content`; the message also carries a
    `system_code` + `system_params` that each client renders in its own language). Chinese by default: the
    users are Chinese-speaking, and the clients that show the fallback are the ones that know no codes (an older
    mini program or H5 build, the spec's seed flows)."""
    abandon_waiting_after_seconds: Annotated[float, Field(ge=0, le=30 * 86_400)] = 3600.0
    """A waiting session whose user has sent nothing for this long is closed as `abandoned` (it leaves the
    queue) by the sweep (`CHAT_PRESENCE_SWEEP_SECONDS`); 0: never. Counted from the user's last message only
    (the gateways report admins' sockets, not end users'), so keep it above the longest wait a present user
    would sit through without writing."""
    close_inactive_after_seconds: Annotated[float, Field(ge=0, le=30 * 86_400)] = 1800.0
    """An active session with no message from the user or the agent for this long (counted from its
    assignment at the earliest) is closed as `inactive`, with a system message; 0: never."""
    s3_endpoint_url: str | None = None
    """With `CHAT_ATTACHMENTS_STORAGE=s3`: the S3 API's base URL, e.g. `http://minio:9000`,
    `https://s3.oss-cn-hangzhou.aliyuncs.com`, `https://cos.ap-guangzhou.myqcloud.com`. Unset: AWS S3 in
    `CHAT_S3_REGION`."""
    s3_bucket: str | None = None
    """The bucket of the pictures (required with `CHAT_ATTACHMENTS_STORAGE=s3`: chat-svc refuses to start without
    it). It must exist; chat-svc does not create it, and it should not be public."""
    s3_region: str = "us-east-1"
    """The region the requests are signed for (SigV4): the bucket's region on AWS/OSS/COS (`cn-hangzhou`,
    `ap-guangzhou`, ...); MinIO accepts its default `us-east-1`."""
    s3_access_key_id: str | None = None
    """The access key; unset (with `CHAT_S3_SECRET_ACCESS_KEY`): the AWS SDK's usual chain (`AWS_ACCESS_KEY_ID`
    and `AWS_SECRET_ACCESS_KEY`, a shared credentials file, an instance role)."""
    s3_secret_access_key: SecretStr | None = None
    """The secret of `CHAT_S3_ACCESS_KEY_ID` (both or neither)."""
    s3_key_prefix: str = "attachments/"
    """Put before every object key (`<prefix><uuid>/full`, `<prefix><uuid>/thumbnail`), so the bucket can hold
    other things; may be empty."""
    s3_addressing_style: Literal["auto", "path", "virtual"] = "auto"
    """`path` (`<endpoint>/<bucket>/<key>`: MinIO and most self-hosted stores), `virtual`
    (`<bucket>.<endpoint host>/<key>`: what Aliyun OSS and Tencent COS require) or `auto` (virtual on AWS when
    the bucket name allows it, path for an IP endpoint)."""
    s3_timeout_seconds: Annotated[float, Field(gt=0, le=300)] = 10.0
    """Connect and read timeout of one S3 request."""
    s3_max_attempts: Annotated[int, Field(ge=1, le=10)] = 3
    """Tries of one S3 request (connection errors, 5xx and throttling are retried with backoff); when every try
    fails, the upload or the picture answers 503 `unavailable`."""

    @model_validator(mode="after")
    def _s3_is_configured(self) -> Self:
        if self.attachments_storage == "s3" and not self.s3_bucket:
            raise ValueError("CHAT_ATTACHMENTS_STORAGE=s3 needs CHAT_S3_BUCKET (the bucket that keeps the pictures); "
                             "see services/chat-svc/README.md, 'Picture storage'")
        if (self.s3_access_key_id is None) != (self.s3_secret_access_key is None):
            raise ValueError("set both CHAT_S3_ACCESS_KEY_ID and CHAT_S3_SECRET_ACCESS_KEY, or neither "
                             "(then the AWS SDK's usual credential chain is used)")
        return self
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
    vip_priority: Annotated[int, Field(ge=1, le=5)] = 5
    """The queue priority of a new session opened by a VIP customer (`PUT /customers/{user_id}` with
    `{"tier": "vip"}`); everyone else's new sessions get `CHAT_DEFAULT_PRIORITY`."""
    queue_update_interval_seconds: Annotated[float, Field(ge=0.05, le=60)] = 1.0
    """Waiting users' positions are published (`chat:queue_update`) at most once per this interval by the whole
    deployment, so at most once per interval per user; changes in between coalesce, the last one is always sent."""
    queue_poll_seconds: Annotated[float, Field(gt=0, le=60)] = 0.25
    """How often each chat-svc process checks whether the queue changed (a check reads the waiting sessions by
    index, the recent departures and what users were last told); a change reaches the user within about this plus
    the interval."""
    queue_estimate_window_seconds: Annotated[int, Field(ge=60, le=7 * 86_400)] = 1800
    """Only departures from the queue (sessions assigned or claimed after waiting) this recent measure its speed
    (chat_svc.queue_estimate)."""
    queue_estimate_samples: Annotated[int, Field(ge=1, le=1000)] = 20
    """At most this many of the most recent departures in the window are used for the estimate."""
    queue_estimate_min_samples: Annotated[int, Field(ge=1, le=1000)] = 3
    """With fewer departures in the window the estimated wait is null (unknown: pages show "正在估算")."""
    quick_replies_max: Annotated[int, Field(ge=1, le=10_000)] = 200
    """Quick replies one agent may keep for themselves, and the team's at most (409 `too_many_quick_replies`)."""
    history_messages_per_session: Annotated[int, Field(ge=1, le=100)] = 20
    """The customer panel (`GET /customers/{user_id}/sessions`): how many of each past session's newest messages
    come with it (older ones: the session's own message pages)."""
    reply_remind_after_seconds: Annotated[float, Field(ge=0, le=86_400)] = 60.0
    """A user's message unanswered by the session's agent for this long (open time only: the deadlines pause
    outside working hours) brings that agent one reminder (`system:alert`, code `reply_reminder`); 0: none. Counted
    from the oldest unanswered message (further ones do not move it), or from the assignment."""
    reply_reassign_after_seconds: Annotated[float, Field(ge=0, le=86_400)] = 180.0
    """Unanswered this long, the session goes to another agent online with room (a system message to the user,
    an alert to both agents); with nobody else free it stays and the agent is told once (`reply_overdue`), and
    it moves as soon as someone has room. 0: never. When both are set it must be above
    CHAT_REPLY_REMIND_AFTER_SECONDS."""
    reply_deadline_sweep_seconds: Annotated[float, Field(gt=0, le=600)] = 1.0
    """How often each chat-svc process looks for reply deadlines that passed (a read of an index; the locks are
    taken only when one is due): a reminder or a reassignment comes at most about this late."""

    @model_validator(mode="after")
    def _reassign_after_remind(self) -> Self:
        remind, reassign = self.reply_remind_after_seconds, self.reply_reassign_after_seconds
        if remind > 0 and reassign > 0 and reassign <= remind:
            raise ValueError(f"CHAT_REPLY_REASSIGN_AFTER_SECONDS ({reassign}) must be above "
                             f"CHAT_REPLY_REMIND_AFTER_SECONDS ({remind}): the reminder comes first")
        return self
    left_message_notify: Literal["supervisors", "all_agents"] = "supervisors"
    """Who gets a `notification:new` when a user leaves a message nobody can take now (outside working hours, or
    no agent online and available): `supervisors` (the admins chat-svc has seen with a supervisor's token; every
    admin while it knows none) or `all_agents` (every admin, one broadcast notification)."""
    rating_edit_seconds: Annotated[int, Field(ge=0, le=7 * 86_400)] = 600
    """How long after first rating a closed session its user may still change the rating (score and comment);
    after that `PUT /my/sessions/{id}/rating` answers 409 `rating_locked`."""
    rating_comment_max_chars: Annotated[int, Field(ge=1, le=5000)] = 500
    """The longest comment a rating may carry (Unicode code points); longer is refused with 422."""
    report_first_reply_deadline_seconds: Annotated[float, Field(gt=0, le=86_400)] = 60.0
    """The reports' "answered within the deadline": the share of sessions whose first agent reply came within this
    many seconds of their opening. Keep it equal to the first reply deadline (the reply reminder)."""
    report_max_days: Annotated[int, Field(ge=1, le=3660)] = 92
    """The longest range of Beijing days one report covers (`GET /reports/summary`); longer is refused with 422."""
    message_batch_max: Annotated[int, Field(ge=1, le=1000)] = 64
    """Group commit of the socket's `chat:send_message`: at most this many messages that arrived while the previous
    transaction ran are written together in the next one (each refused or accepted alone, in arrival order per
    process); 1: one transaction per message. The REST route writes one message per transaction either way."""
    session_state_in_message_events: bool = True
    """A session changed only by messages in one transaction is announced on its last `chat.message_created`
    (schema 1.1, its optional `session`) instead of a `chat.session_updated` of its own: one stream event per
    message instead of two. Gateways older than that field would not send its `chat:session_update`: deploy
    gateways first, or keep this off until every gateway reads it (off: both events, as before)."""
