"""Builds the auth-svc ASGI app on the service skeleton (servicekit.service). Nothing connects at import or
build time: the lifespan migrates schema `auth`, then `_accounts` loads the signing key and sets up the login
machinery. auth-svc publishes no events: no outbox, no RabbitMQ (its /health checks the database only)."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI
from servicekit.jwt import JwksVerifier
from servicekit.service import Runtime, StartHook, Tables, build_service

from auth_svc.api import JWKS_PATH, routers
from auth_svc.db import SCHEMA, rate_limits
from auth_svc.housekeeping import retention_rules
from auth_svc.keys import load_or_generate
from auth_svc.passwords import Passwords
from auth_svc.refresh_tokens import Lifetimes
from auth_svc.seed import seed_dev
from auth_svc.settings import Settings
from auth_svc.throttle import Limits
from auth_svc.tokens import TokenIssuer
from auth_svc.wechat import WeChatClient

log = logging.getLogger(__name__)

SERVICE = "auth-svc"
MIGRATIONS = Path(__file__).parent / "alembic"
_SELF_URL = "http://auth-svc.internal"


def _accounts(passwords: Passwords | None) -> StartHook:
    @asynccontextmanager
    async def start(runtime: Runtime) -> AsyncIterator[None]:
        settings: Settings = runtime.settings
        state = runtime.state
        # /me verifies tokens exactly as every other service does: a JwksVerifier reading this app's own
        # JWKS route, in-process through an ASGI transport.
        async with httpx.AsyncClient(transport=httpx.ASGITransport(runtime.app), base_url=_SELF_URL) as self_client:
            state.jwt_verifier = JwksVerifier(_SELF_URL + JWKS_PATH, issuer=settings.issuer,
                                              audience=settings.audience, http=self_client)
            try:
                key = await asyncio.to_thread(
                    load_or_generate, settings.signing_key_file, generate=settings.generate_key_if_missing
                )
                state.passwords = passwords or Passwords()
                state.signing_key = key
                state.token_issuer = TokenIssuer(
                    key, issuer=settings.issuer, audience=settings.audience, ttl_seconds=settings.token_ttl_seconds
                )
                state.login_limits = Limits(
                    settings.login_max_failures, settings.login_max_failures_per_address,
                    settings.login_window_seconds, settings.login_lockout_seconds, settings.login_lockout_max_seconds,
                    settings.login_max_failures_per_username, settings.login_username_delay_seconds,
                    settings.login_username_delay_max_seconds, settings.login_known_address_days,
                )
                state.register_limits = (settings.register_max_per_address, settings.register_window_seconds)
                state.registration_hashes = asyncio.Semaphore(settings.register_concurrent_hashes)
                state.refresh_lifetimes = Lifetimes(settings.refresh_token_ttl_seconds,
                                                    settings.refresh_family_max_seconds)
                state.wechat = _wechat(settings)
                if settings.dev_seed:
                    await seed_dev(runtime.engine, state.passwords)
                log.info("signing key loaded", extra={"kid": key.kid})
                yield
            finally:
                await state.jwt_verifier.aclose()
                if getattr(state, "wechat", None) is not None:
                    await state.wechat.aclose()

    return start


def _wechat(settings: Settings) -> WeChatClient | None:
    if settings.wechat_appid is None or settings.wechat_secret is None:
        if settings.wechat_appid is not None or settings.wechat_secret is not None:
            log.warning("WeChat login is off: AUTH_WECHAT_APPID and AUTH_WECHAT_SECRET go together")
        return None
    log.info("WeChat login on", extra={"wechat_appid": settings.wechat_appid,
                                        "wechat_api": settings.wechat_api_base_url})
    return WeChatClient(base_url=settings.wechat_api_base_url, appid=settings.wechat_appid,
                        secret=settings.wechat_secret, timeout_seconds=settings.wechat_timeout_seconds)


def create_app(settings: Settings | None = None, *, passwords: Passwords | None = None) -> FastAPI:
    settings = settings or Settings()
    return build_service(SERVICE, settings, schema=SCHEMA, migrations=MIGRATIONS, routers=routers,
                         start=_accounts(passwords),
                         tables=Tables(rate_limits=rate_limits, own_retention=retention_rules(settings)))
