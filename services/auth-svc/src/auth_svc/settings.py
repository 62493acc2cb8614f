"""All of auth-svc's configuration, read from `AUTH_*` environment variables."""

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict
from servicekit.ratelimit import RateLimit
from servicekit.retention import PruneSettings
from servicekit.service import HeartbeatSettings, ServiceSettings


class Settings(ServiceSettings, HeartbeatSettings, PruneSettings):
    """`AUTH_DATABASE_URL`, `AUTH_LOG_LEVEL` and `AUTH_FORWARDED_ALLOW_IPS` (default `["127.0.0.1"]`: whose
    `X-Forwarded-For` names the client, e.g. for the per-address login limit) come from
    `servicekit.service.ServiceSettings`; `AUTH_AMQP_URL` and `AUTH_HEARTBEAT_SECONDS` (auth-svc publishes no
    events, only its heartbeat for the platform status) from `servicekit.service.HeartbeatSettings`;
    `AUTH_RETENTION_INTERVAL_SECONDS` (how often expired counters and refresh tokens are deleted:
    auth_svc.housekeeping) from `servicekit.retention.PruneSettings`."""

    model_config = SettingsConfigDict(env_prefix="AUTH_")

    signing_key_file: Path = Path(".run/auth-signing-key.pem")
    """The Ed25519 private key (PEM) that signs access tokens; a relative path is from the working directory.
    Its public half is served at `/.well-known/jwks.json`. Keep it across restarts, or issued tokens stop verifying."""
    generate_key_if_missing: bool = True
    """Create the signing key file (mode 0600) when it does not exist; off: a missing file stops auth-svc at start."""
    token_ttl_seconds: int = Field(900, gt=0)
    """Lifetime of an access token (JWT). Short, since a JWT cannot be revoked: the pages renew it with the
    refresh token before it expires, and the gateway disconnects a socket whose token has expired."""
    refresh_token_ttl_seconds: int = Field(7 * 24 * 3600, gt=0)
    """Lifetime of one refresh token; each use hands out a new one (rotation), so a session left unused this
    long ends."""
    refresh_family_max_seconds: int = Field(30 * 24 * 3600, gt=0)
    """However often it is renewed, a login's refresh tokens (its family) end this long after the login."""
    issuer: str = "platform-auth"
    """The `iss` claim of the tokens it issues (every verifying service expects it: `*_JWT_ISSUER`)."""
    audience: str = "platform"
    """The `aud` claim of the tokens it issues (every verifying service expects it: `*_JWT_AUDIENCE`)."""
    dev_seed: bool = False
    """Create the development accounts (admin1..3, user1..5, one well-known password) at start. Never in production."""
    login_max_failures: int = 5
    """Failed logins for one username from one client address within the window before that pair is locked
    (429 too_many_attempts); the same username from other addresses is unaffected."""
    login_max_failures_per_address: int = 50
    """The same for one client address (many usernames guessed from one place)."""
    login_window_seconds: int = 900
    """The window in which failed logins are counted (per pair, per address, per username)."""
    login_lockout_seconds: int = 30
    """First lockout; it doubles with every further failure, up to `login_lockout_max_seconds`."""
    login_lockout_max_seconds: int = 900
    """The longest lockout of one (username, address) pair."""
    login_max_failures_per_username: int = 20
    """Failed logins for one username from all addresses together within the window (a guesser rotating
    addresses) before each further failure delays that username's logins..."""
    login_username_delay_seconds: int = 1
    """...first by this long, doubling with every further failure..."""
    login_username_delay_max_seconds: int = 60
    """...up to this. Short on purpose: it slows guessing to one try per delay."""
    login_known_address_days: int = 30
    """The per-username delay does not apply at an address the account logged in from within this many days:
    the owner at home is not slowed by a guesser rotating addresses elsewhere."""
    register_max_per_address: int = 20
    """Registrations from one client address within `register_window_seconds` (each costs a password hash);
    past it: 429 too_many_attempts + Retry-After."""
    register_window_seconds: int = 3600
    """The window of `register_max_per_address`."""
    register_concurrent_hashes: int = Field(1, gt=0)
    """Registrations hashing their password at once in one process; more wait their turn, so a burst of
    registrations (from many addresses) cannot take every core from logins verifying theirs."""
    wechat_appid: str | None = None
    """The WeChat mini program's AppID (微信公众平台 → 开发管理 → 开发设置). With `wechat_secret` it switches on
    `POST /api/v4/auth/wechat/login`; unset, that route answers 404 `wechat_login_disabled`."""
    wechat_secret: SecretStr | None = None
    """The mini program's AppSecret. Sent to WeChat only (in the query string WeChat requires), never logged."""
    wechat_api_base_url: str = "https://api.weixin.qq.com"
    """WeChat's server API. Tests point it at a local stand-in (servicekit_testing.wechat_standin)."""
    wechat_timeout_seconds: float = Field(5.0, gt=0, le=60)
    """How long one call to WeChat may take before the login answers 503 `wechat_unavailable`."""
    wechat_login_rate_limit: RateLimit = RateLimit(requests=30, per_seconds=60)
    """WeChat logins per client address (each costs a call against the mini program's WeChat quota, which a
    flood of made-up codes could otherwise exhaust for everyone): 429 `rate_limited` + Retry-After beyond it."""
    host: str = "127.0.0.1"
    """Address `auth-svc serve` listens on (uvicorn started by hand takes its own `--host`)."""
    port: int = 8001
    """Port `auth-svc serve` listens on."""
