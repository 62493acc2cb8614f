"""Settings of chat-svc, read from `CHAT_*` environment variables.

The defaults point at the local run (docs/ARCHITECTURE.md, "Ports"); Docker Compose and the test harness
override every URL.
"""

from typing import Literal

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHAT_", extra="ignore")

    database_url: str = "postgresql+asyncpg://platform:platform@127.0.0.1:5432/platform"
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    jwks_url: str = "http://127.0.0.1:8001/.well-known/jwks.json"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value
