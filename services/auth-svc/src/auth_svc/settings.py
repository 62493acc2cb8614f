"""All of auth-svc's configuration, read from `AUTH_*` environment variables."""

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from servicekit.forwarded import ForwardedSettings


class Settings(ForwardedSettings):
    """`AUTH_FORWARDED_ALLOW_IPS` (default `["127.0.0.1"]`: whose `X-Forwarded-For` names the client, e.g. for
    the per-address login limit) comes from `servicekit.forwarded.ForwardedSettings`."""

    model_config = SettingsConfigDict(env_prefix="AUTH_")

    database_url: str = "postgresql+asyncpg://platform:platform@127.0.0.1:5432/platform"
    signing_key_file: Path = Path(".run/auth-signing-key.pem")
    generate_key_if_missing: bool = True
    token_ttl_seconds: int = Field(900, gt=0)
    """Lifetime of an access token (JWT). Short, since a JWT cannot be revoked: the pages renew it with the
    refresh token before it expires, and the gateway disconnects a socket whose token has expired."""
    refresh_token_ttl_seconds: int = Field(7 * 24 * 3600, gt=0)
    """Lifetime of one refresh token; each use hands out a new one (rotation), so a session left unused this
    long ends."""
    refresh_family_max_seconds: int = Field(30 * 24 * 3600, gt=0)
    """However often it is renewed, a login's refresh tokens (its family) end this long after the login."""
    issuer: str = "platform-auth"
    audience: str = "platform"
    dev_seed: bool = False
    login_max_failures: int = 5
    """Failed logins for one username from one client address within the window before that pair is locked
    (429 too_many_attempts); the same username from other addresses is unaffected."""
    login_max_failures_per_address: int = 50
    """The same for one client address (many usernames guessed from one place)."""
    login_window_seconds: int = 900
    login_lockout_seconds: int = 30
    """First lockout; it doubles with every further failure, up to `login_lockout_max_seconds`."""
    login_lockout_max_seconds: int = 900
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
    register_concurrent_hashes: int = Field(1, gt=0)
    """Registrations hashing their password at once in one process; more wait their turn, so a burst of
    registrations (from many addresses) cannot take every core from logins verifying theirs."""
    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "json"
    """Log lines as JSON objects (production, log shippers) or as readable text (`./scripts/run` sets text)."""
    host: str = "127.0.0.1"
    port: int = 8001
