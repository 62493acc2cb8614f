"""Settings of notification-svc, read from `NOTIFICATION_*` environment variables.

The defaults point at the local run (docs/ARCHITECTURE.md, "Ports"); Docker Compose and the test harness
override every URL. JWT verification settings (`NOTIFICATION_JWKS_URL`, `NOTIFICATION_JWT_ISSUER`,
`NOTIFICATION_JWT_AUDIENCE`) come from servicekit's `JwtSettings`.
"""

from pydantic import Field, SecretStr
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

    send_batch_max: int = Field(64, ge=1)
    """Most targeted sends (`/notifications/send` with `target_user_id`) written in one transaction: the sends that
    arrive while one is written go together into the next (send_batch.py); 1 writes each in its own."""

    wechat_appid: str | None = None
    """The mini program's appid for WeChat's server API (subscribe messages to end users with no socket online);
    unset (or `NOTIFICATION_WECHAT_SECRET` / `NOTIFICATION_WECHAT_TEMPLATE_ID` unset): offline reach is off."""
    wechat_secret: SecretStr | None = None
    """The mini program's AppSecret (never logged); with the appid it fetches the access token (`stable_token`)."""
    wechat_api_base_url: str = "https://api.weixin.qq.com"
    """WeChat's server API; tests point it at `servicekit_testing.wechat_standin`."""
    wechat_template_id: str | None = None
    """The subscribe message template (from the mini program's admin console) sent when an admin replies to a user
    who has no socket online; the chat page asks consent for this id (`wx.requestSubscribeMessage`)."""
    wechat_page: str = "pages/chat/index"
    """The mini program page a tap on the message opens; `?session_id=<id>` is appended (the mini program's chat
    page, which then shows that session: clients/miniprogram/logic/routes.js)."""
    wechat_fields: dict[str, str] = Field(default_factory=lambda: {"content": "thing1", "time": "time2"})
    """Which template field carries what: `content` (the reply, cut to the field type's limit, e.g. 20 characters
    for `thing`) and `time` (when it was sent, Beijing time); keys left out are not sent. JSON in env:
    `NOTIFICATION_WECHAT_FIELDS='{"content": "thing1", "time": "time2"}'`."""
    wechat_max_consents: int = Field(50, ge=1)
    """Most unused consents kept per user and template (each allows one message, as WeChat's one-time
    subscriptions do); more taps on "allow" add nothing beyond it."""
    wechat_send_attempts: int = Field(5, ge=1)
    """Attempts per subscribe message before it is given up (WeChat busy, network errors)."""
    wechat_retry_seconds: float = Field(2.0, gt=0)
    """First wait before a failed send is tried again; doubled per attempt, at most 60 s."""
    wechat_token_margin_seconds: int = Field(300, ge=0)
    """The access token is fetched again this long before WeChat says it expires (`expires_in`)."""
    wechat_timeout_seconds: float = Field(5.0, gt=0)
    """Timeout of one call to WeChat's API."""
    wechat_poll_seconds: float = Field(1.0, gt=0)
    """How often the sender looks for due messages when nothing wakes it (retries, other processes' sends)."""
    wechat_presence_ttl_seconds: int = Field(15, ge=1)
    """A gateway seen only through users' connection changes (no heartbeat yet) counts this long after its
    last event; a heartbeat sets its own ttl. Sockets on a gateway past its ttl do not count."""

    @property
    def wechat_reach(self) -> bool:
        """Offline reach by WeChat subscribe messages is on (appid, secret and template id are set)."""
        return bool(self.wechat_appid and self.wechat_secret and self.wechat_template_id)
