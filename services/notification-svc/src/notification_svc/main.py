"""Builds the notification-svc ASGI app on the service skeleton (servicekit.service).

Start: `uvicorn --factory notification_svc.main:create_app --port 8002`. Nothing connects at import or build
time; the lifespan migrates schema `notification`, opens the database engine, starts the RabbitMQ link in the
background (the API answers while the broker is down: events wait in the outbox) with the command consumer
on it and the consumer of `chat.message_left` (left_messages.py), and runs the outbox relay.

/health: `database` (SELECT 1), `broker` (the RabbitMQ link is up) and `outbox_relay` (the relay task is
running); any failing check answers 503, while the API itself keeps serving requests.
"""

from pathlib import Path

from fastapi import FastAPI
from servicekit.jwt import JwksVerifier
from servicekit.service import Tables, build_service

from notification_svc import db
from notification_svc.api import routers
from notification_svc.commands import command_handlers
from notification_svc.left_messages import LEFT_MESSAGES_QUEUE, left_messages_consumer
from notification_svc.settings import Settings

SERVICE = "notification-svc"

DESCRIPTION = """Notifications for admins and system messages of the platform (schema `notification`).

Every route needs an admin's access token (an end user's token gets 403). Each change is written together
with its domain event (exchange `notification.events`, routing key = event type) in one transaction; a relay
publishes the events with publisher confirms, so they go out, in order, once RabbitMQ is reachable.

System messages: alerts and status changes reach admins only; maintenance with audience `all` also reaches end
users, with audience `admins` admins only.
"""


def create_app(settings: Settings | None = None, *, jwt_verifier: JwksVerifier | None = None) -> FastAPI:
    return build_service(
        SERVICE, settings or Settings(), schema=db.SCHEMA, migrations=Path(__file__).parent / "alembic",
        description=DESCRIPTION, tables=Tables(db.outbox, db.idempotency_keys, db.processed_events, db.rate_limits),
        routers=routers, jwt_verifier=jwt_verifier,
        commands=lambda runtime: command_handlers(runtime.work),
        consumers=[lambda runtime: left_messages_consumer(runtime.work)], queues=[LEFT_MESSAGES_QUEUE.name],
    )
