"""Settings of the realtime gateway, read from `GATEWAY_*` environment variables.

Lists come as JSON: `GATEWAY_CORS_ALLOWED_ORIGINS='["http://localhost:3000"]'`. The defaults point at the
local run (docs/ARCHITECTURE.md, "Ports").
"""

from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    jwks_url: str = "http://127.0.0.1:8001/.well-known/jwks.json"
    cors_allowed_origins: list[str] = Field(
        default_factory=lambda: ["http://localhost:3000", "http://127.0.0.1:3000"]
    )
    host: str = "127.0.0.1"
    port: int = 8010
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value
