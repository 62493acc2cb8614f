"""Builds the notification-svc ASGI app on the service skeleton (servicekit.service).

Start: `uvicorn --factory notification_svc.main:create_app --port 8002`. Nothing connects at import or build
time; the lifespan migrates schema `notification`, opens the database engine, starts the RabbitMQ link in the
background (the API answers while the broker is down: events wait in the outbox) with the command consumer
on it and the consumer of `chat.message_left` (left_messages.py), and runs the outbox relay.

/health: `database` (SELECT 1), `broker` (the RabbitMQ link is up) and `outbox_relay` (the relay task is
running); any failing check answers 503, while the API itself keeps serving requests.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from servicekit.broker import OnConnect
from servicekit.jwt import JwksVerifier
from servicekit.service import Runtime, Tables, build_service

from notification_svc import db
from notification_svc.api import routers
from notification_svc.commands import command_handlers
from notification_svc.left_messages import LEFT_MESSAGES_QUEUE, left_messages_consumer
from notification_svc.settings import Settings
from notification_svc.subscriptions_api import router as subscriptions_router
from notification_svc.wechat_api import WeChatApi
from notification_svc.wechat_reach import REACH_QUEUE, ReachRules, reach_consumer
from notification_svc.wechat_sender import Sender, retention_rules

SERVICE = "notification-svc"

DESCRIPTION = """Notifications for admins and system messages of the platform (schema `notification`).

Every route needs an admin's access token (an end user's token gets 403). Each change is written together
with its domain event (exchange `notification.events`, routing key = event type) in one transaction; a relay
publishes the events with publisher confirms, so they go out, in order, once RabbitMQ is reachable.

System messages: alerts and status changes reach admins only; maintenance with audience `all` also reaches end
users, with audience `admins` admins only.

WeChat subscriptions (`/api/v4/notifications/wechat/subscriptions`) are the one resource for end users: a user
logged in with WeChat records each consent given on the mini program's chat page; an admin's reply to a user
with no socket online then becomes a subscribe message (one per consent).
"""


def create_app(settings: Settings | None = None, *, jwt_verifier: JwksVerifier | None = None) -> FastAPI:
    settings = settings or Settings()
    reach = settings.wechat_reach
    return build_service(
        SERVICE, settings, schema=db.SCHEMA, migrations=Path(__file__).parent / "alembic",
        description=DESCRIPTION,
        tables=Tables(db.outbox, db.idempotency_keys, rate_limits=db.rate_limits,
                      processed_events=db.processed_events, own_retention=retention_rules(settings)),
        routers=[subscriptions_router, *routers], jwt_verifier=jwt_verifier,
        commands=lambda runtime: command_handlers(runtime.work),
        start=_wechat_sender if reach else None,
        consumers=[lambda runtime: left_messages_consumer(runtime.work), *([_reach_consumer] if reach else [])],
        tasks={"wechat-sender": lambda runtime: runtime.state.wechat_sender.run()} if reach else None,
        queues=[LEFT_MESSAGES_QUEUE.name, *([REACH_QUEUE.name] if reach else [])],
        docs_prefix="/api/v4/notifications",
    )


@asynccontextmanager
async def _wechat_sender(runtime: Runtime) -> AsyncIterator[None]:
    """Offline reach is on: the WeChat API client and the sender of subscribe messages (app.state.wechat_sender)."""
    settings: Settings = runtime.settings
    assert settings.wechat_appid is not None and settings.wechat_secret is not None
    api = WeChatApi(settings.wechat_api_base_url, settings.wechat_appid, settings.wechat_secret,
                    timeout_seconds=settings.wechat_timeout_seconds, margin_seconds=settings.wechat_token_margin_seconds)
    runtime.state.wechat_api = api
    runtime.state.wechat_sender = Sender(runtime.engine, api, attempts=settings.wechat_send_attempts,
                                         retry_seconds=settings.wechat_retry_seconds,
                                         poll_seconds=settings.wechat_poll_seconds)
    try:
        yield
    finally:
        await api.aclose()


def _reach_consumer(runtime: Runtime) -> OnConnect:
    return reach_consumer(runtime.engine, ReachRules.of(runtime.settings), runtime.state.wechat_sender.wake)
