"""All of auth-svc's configuration, read from `AUTH_*` environment variables."""

from pathlib import Path

from pydantic_settings import SettingsConfigDict
from servicekit.forwarded import ForwardedSettings


class Settings(ForwardedSettings):
    """`AUTH_FORWARDED_ALLOW_IPS` (default `["127.0.0.1"]`: whose `X-Forwarded-For` names the client, e.g. for
    the per-address login limit) comes from `servicekit.forwarded.ForwardedSettings`."""

    model_config = SettingsConfigDict(env_prefix="AUTH_")

    database_url: str = "postgresql+asyncpg://platform:platform@127.0.0.1:5432/platform"
    signing_key_file: Path = Path(".run/auth-signing-key.pem")
    generate_key_if_missing: bool = True
    token_ttl_seconds: int = 28800
    issuer: str = "platform-auth"
    audience: str = "platform"
    dev_seed: bool = False
    login_max_failures: int = 5
    """Failed logins for one username within the window before it is locked (429 too_many_attempts)."""
    login_max_failures_per_address: int = 50
    """The same for one client address (many usernames guessed from one place)."""
    login_window_seconds: int = 900
    login_lockout_seconds: int = 30
    """First lockout; it doubles with every further failure, up to `login_lockout_max_seconds`."""
    login_lockout_max_seconds: int = 900
    log_level: str = "INFO"
    host: str = "127.0.0.1"
    port: int = 8001
