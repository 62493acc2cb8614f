"""All of auth-svc's configuration, read from `AUTH_*` environment variables."""

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AUTH_")

    database_url: str = "postgresql+asyncpg://platform:platform@127.0.0.1:5432/platform"
    signing_key_file: Path = Path(".run/auth-signing-key.pem")
    generate_key_if_missing: bool = True
    token_ttl_seconds: int = 28800
    issuer: str = "platform-auth"
    audience: str = "platform"
    dev_seed: bool = False
    log_level: str = "INFO"
    host: str = "127.0.0.1"
    port: int = 8001
