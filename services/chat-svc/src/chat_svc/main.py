"""Builds the chat-svc ASGI app.

Start: `uvicorn --factory chat_svc.main:create_app --port 8003`. Nothing connects at import or build time:
the lifespan migrates schema `chat`, then starts the RabbitMQ link in the background (presence consumer and
socket commands start once it is connected), the outbox relay and the presence sweep. The API answers while
RabbitMQ is down; events wait in the outbox.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from aio_pika.abc import AbstractRobustConnection
from contracts.events.topology import queue_name
from fastapi import FastAPI
from servicekit.amqp import Publisher
from servicekit.broker import Broker
from servicekit.commands import serve_commands
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

from chat_svc.api import install_routes
from chat_svc.commands import command_handlers, map_error
from chat_svc.db import SCHEMA, idempotency_keys, outbox, processed_events, rate_limits
from chat_svc.presence import PRESENCE_QUEUE, presence_consumer, sweep_forever
from chat_svc.service import Chat
from chat_svc.settings import Settings

log = logging.getLogger(__name__)

SERVICE = "chat-svc"
MIGRATIONS = Path(__file__).parent / "alembic"


def create_app(settings: Settings | None = None, *, jwt_verifier: JwksVerifier | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(SERVICE, settings.log_level, settings.log_format)
    verifier = jwt_verifier or settings.jwt_verifier()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url)
        tasks: list[asyncio.Task[None]] = []
        broker: Broker | None = None
        try:
            await upgrade_to_head(engine, MIGRATIONS, SCHEMA)
            chat = Chat(engine, capacity=settings.admin_capacity,
                        presence_ttl_seconds=settings.presence_ttl_seconds,
                        default_priority=settings.default_priority)

            async def serve_chat_commands(connection: AbstractRobustConnection, publisher: Publisher) -> None:
                await serve_commands(connection, publisher, service=SERVICE, handlers=command_handlers(chat),
                                     map_error=map_error)

            broker = Broker(settings.amqp_url, name=SERVICE, on_connect=[presence_consumer(chat), serve_chat_commands])
            await broker.start()
            relay = OutboxRelay(settings.database_url, SCHEMA, broker)
            tasks.append(asyncio.create_task(relay.run(), name="chat-outbox-relay"))
            tasks.append(asyncio.create_task(sweep_forever(chat, settings.presence_sweep_seconds),
                                             name="chat-presence-sweep"))
            # Names the task behind any transaction held open for seconds (it holds locks others wait on).
            tasks.append(asyncio.create_task(TransactionWatch(engine).run(), name="chat-transaction-watch"))
            rules = service_rules(settings, outbox=outbox, idempotency_keys=idempotency_keys,
                                  processed_events=processed_events, rate_limits=rate_limits)
            tasks.append(asyncio.create_task(
                prune_forever(engine, rules, interval=settings.retention_interval_seconds), name="chat-retention"))
            app.state.engine, app.state.chat, app.state.broker, app.state.relay = engine, chat, broker, relay
            app.state.relay_task = tasks[0]
            app.state.rate_limiter = RateLimiter(engine, rate_limits)
            tune_gc(settings.gc_gen0_threshold)  # after startup: what it built is frozen (servicekit.gctune)
            log.info("started", extra={"capacity": settings.admin_capacity})
            yield
        finally:
            await stop_tasks(tasks)
            if broker is not None:
                await broker.close()
            if jwt_verifier is None:
                await verifier.aclose()
            await engine.dispose()

    app = FastAPI(title=SERVICE, lifespan=lifespan,
                  description="Customer-service chat: sessions, messages, assignment to online admins.")
    app.state.settings = settings
    app.state.jwt_verifier = verifier
    app.state.chat = None
    install_error_handlers(app)
    app.add_middleware(TrustedProxyMiddleware, trusted=settings.trusted_proxies())
    install_routes(app)

    async def database() -> bool:
        async with app.state.engine.connect() as conn:
            return (await conn.execute(text("SELECT 1"))).scalar() == 1

    async def broker_link() -> bool:
        return app.state.broker.connected

    async def outbox_relay() -> bool:
        return not app.state.relay_task.done()

    app.include_router(health_router(SERVICE, {"database": database, "broker": broker_link,
                                               "outbox_relay": outbox_relay}))
    install_metrics(app, SERVICE, outbox_schema=SCHEMA, queues=[queue_name(SERVICE, "commands"), PRESENCE_QUEUE.name])
    install_request_id(app)  # last: outermost, so every line of a request carries its id
    return app
