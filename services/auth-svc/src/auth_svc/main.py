"""Build the auth-svc app. Nothing connects at import or build time: the lifespan opens everything."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI
from servicekit.db import create_engine
from servicekit.forwarded import TrustedProxyMiddleware
from servicekit.http import health_router, install_error_handlers
from servicekit.jwt import JwksVerifier
from servicekit.logging import configure_logging
from servicekit.metrics import install_metrics
from servicekit.migrations import upgrade_to_head
from servicekit.requestid import install_request_id
from sqlalchemy import text

from auth_svc.api import JWKS_PATH, install_routes
from auth_svc.db import SCHEMA
from auth_svc.keys import load_or_generate
from auth_svc.passwords import Passwords
from auth_svc.refresh_tokens import Lifetimes
from auth_svc.seed import seed_dev
from auth_svc.settings import Settings
from auth_svc.throttle import Limits
from auth_svc.tokens import TokenIssuer

log = logging.getLogger(__name__)

SERVICE = "auth-svc"
MIGRATIONS = Path(__file__).parent / "alembic"
_SELF_URL = "http://auth-svc.internal"


def create_app(settings: Settings | None = None, *, passwords: Passwords | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(SERVICE, settings.log_level, settings.log_format)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url)
        # /me verifies tokens exactly as every other service does: a JwksVerifier reading this app's own
        # JWKS route, in-process through an ASGI transport.
        self_client = httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=_SELF_URL)
        verifier = JwksVerifier(
            _SELF_URL + JWKS_PATH, issuer=settings.issuer, audience=settings.audience, http=self_client
        )
        try:
            await upgrade_to_head(engine, MIGRATIONS, SCHEMA)
            key = await asyncio.to_thread(
                load_or_generate, settings.signing_key_file, generate=settings.generate_key_if_missing
            )
            app.state.engine = engine
            app.state.passwords = passwords or Passwords()
            app.state.signing_key = key
            app.state.token_issuer = TokenIssuer(
                key, issuer=settings.issuer, audience=settings.audience, ttl_seconds=settings.token_ttl_seconds
            )
            app.state.jwt_verifier = verifier
            app.state.login_limits = Limits(
                settings.login_max_failures, settings.login_max_failures_per_address, settings.login_window_seconds,
                settings.login_lockout_seconds, settings.login_lockout_max_seconds,
                settings.login_max_failures_per_username, settings.login_username_delay_seconds,
                settings.login_username_delay_max_seconds, settings.login_known_address_days,
            )
            app.state.register_limits = (settings.register_max_per_address, settings.register_window_seconds)
            app.state.registration_hashes = asyncio.Semaphore(settings.register_concurrent_hashes)
            app.state.refresh_lifetimes = Lifetimes(settings.refresh_token_ttl_seconds,
                                                    settings.refresh_family_max_seconds)
            if settings.dev_seed:
                await seed_dev(engine, app.state.passwords)
            log.info("started", extra={"kid": key.kid})
            yield
        finally:
            await verifier.aclose()
            await self_client.aclose()
            await engine.dispose()

    app = FastAPI(title=SERVICE, lifespan=lifespan)
    install_error_handlers(app)
    app.add_middleware(TrustedProxyMiddleware, trusted=settings.trusted_proxies())
    install_routes(app)

    async def database() -> bool:
        async with app.state.engine.connect() as conn:
            return (await conn.execute(text("SELECT 1"))).scalar() == 1

    app.include_router(health_router(SERVICE, {"database": database}))
    install_metrics(app, SERVICE)
    install_request_id(app)  # last: outermost, so every line of a request carries its id
    return app
