"""Builds the notification-svc ASGI app.

Start: `uvicorn --factory notification_svc.main:create_app --port 8002`. Nothing connects at import or build
time; the lifespan migrates schema `notification`, opens the database engine, starts the RabbitMQ link in the
background (the API answers while the broker is down: events wait in the outbox) with the command consumer
on it, and runs the outbox relay.

/health: `database` (SELECT 1), `broker` (the RabbitMQ link is up) and `relay` (the relay task is running);
any failing check answers 503, while the API itself keeps serving requests.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from contracts.events.topology import queue_name
from fastapi import FastAPI
from servicekit.broker import Broker
from servicekit.db import create_engine
from servicekit.forwarded import TrustedProxyMiddleware
from servicekit.gctune import tune_gc
from servicekit.http import health_router, install_error_handlers
from servicekit.jwt import JwksVerifier
from servicekit.logging import configure_logging
from servicekit.metrics import install_metrics
from servicekit.migrations import upgrade_to_head
from servicekit.outbox import OutboxRelay
from servicekit.ratelimit import RateLimiter
from servicekit.requestid import install_request_id
from servicekit.retention import prune_forever, service_rules
from servicekit.tasks import stop_tasks
from servicekit.txwatch import TransactionWatch
from sqlalchemy import text

from notification_svc.api import install_routes
from notification_svc.commands import SERVICE, command_server
from notification_svc.db import SCHEMA, idempotency_keys, outbox, rate_limits
from notification_svc.settings import Settings

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "alembic"

DESCRIPTION = """Notifications for admins and system messages of the platform (schema `notification`).

Every route needs an admin's access token (an end user's token gets 403). Each change is written together
with its domain event (exchange `notification.events`, routing key = event type) in one transaction; a relay
publishes the events with publisher confirms, so they go out, in order, once RabbitMQ is reachable.

System messages: alerts and status changes reach admins only; maintenance with audience `all` also reaches end
users, with audience `admins` admins only.
"""


def create_app(settings: Settings | None = None, *, jwt_verifier: JwksVerifier | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(SERVICE, settings.log_level, settings.log_format)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own_verifier = None
        if jwt_verifier is None:
            own_verifier = app.state.jwt_verifier = settings.jwt_verifier()
        engine = create_engine(settings.database_url)
        broker = Broker(
            settings.amqp_url, name=SERVICE, on_connect=[command_server(engine)],
            publish_timeout=settings.publish_timeout, max_backoff=settings.broker_max_backoff,
        )
        relay = OutboxRelay(
            settings.database_url, SCHEMA, broker,
            poll_interval=settings.relay_poll_interval, max_backoff=settings.relay_max_backoff,
        )
        relay_task: asyncio.Task[None] | None = None
        watch_task: asyncio.Task[None] | None = None
        retention_task: asyncio.Task[None] | None = None
        try:
            await upgrade_to_head(engine, MIGRATIONS, SCHEMA)
            app.state.engine = engine
            app.state.broker, app.state.relay = broker, relay
            await broker.start()
            relay_task = app.state.relay_task = asyncio.create_task(relay.run(), name=f"{SERVICE}-outbox-relay")
            watch_task = asyncio.create_task(TransactionWatch(engine).run(), name=f"{SERVICE}-transaction-watch")
            app.state.rate_limiter = RateLimiter(engine, rate_limits)
            rules = service_rules(settings, outbox=outbox, idempotency_keys=idempotency_keys, rate_limits=rate_limits)
            retention_task = asyncio.create_task(
                prune_forever(engine, rules, interval=settings.retention_interval_seconds), name=f"{SERVICE}-retention")
            tune_gc(settings.gc_gen0_threshold)  # after startup: what it built is frozen (servicekit.gctune)
            log.info("started")
            yield
        finally:
            await stop_tasks((relay_task, watch_task, retention_task))
            await broker.close()
            await engine.dispose()
            if own_verifier is not None:
                await own_verifier.aclose()

    app = FastAPI(title=SERVICE, description=DESCRIPTION, lifespan=lifespan)
    if jwt_verifier is not None:
        app.state.jwt_verifier = jwt_verifier
    app.state.settings = settings
    install_error_handlers(app)
    app.add_middleware(TrustedProxyMiddleware, trusted=settings.trusted_proxies())
    install_routes(app)

    async def database() -> bool:
        async with app.state.engine.connect() as conn:
            return (await conn.execute(text("SELECT 1"))).scalar() == 1

    async def broker() -> bool:
        return app.state.broker.connected

    async def relay() -> bool:
        task = app.state.relay_task
        return not task.done()

    app.include_router(health_router(SERVICE, {"database": database, "broker": broker, "relay": relay}))
    install_metrics(app, SERVICE, outbox_schema=SCHEMA, queues=[queue_name(SERVICE, "commands")])
    install_request_id(app)  # last: outermost, so every line of a request carries its id
    return app
