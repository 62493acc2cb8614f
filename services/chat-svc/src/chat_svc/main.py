"""Builds the chat-svc ASGI app on the service skeleton (servicekit.service).

Start: `uvicorn --factory chat_svc.main:create_app --port 8003`. Nothing connects at import or build time:
the lifespan migrates schema `chat`, then starts the RabbitMQ link in the background (presence consumer and
socket commands start once it is connected), the outbox relay and the presence sweep. The API answers while
RabbitMQ is down; events wait in the outbox.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from servicekit.jwt import JwksVerifier
from servicekit.service import Runtime, Tables, build_service

from chat_svc import agent_alerts, db
from chat_svc.agents_api import router as agents_router
from chat_svc.agents_service import Agents, AgentSettings
from chat_svc.agents_service import sweep_forever as agents_sweep_forever
from chat_svc.api import router
from chat_svc.attachment_cleanup import UnsentAttachments
from chat_svc.attachment_cleanup import prune_forever as prune_unsent_forever
from chat_svc.attachment_store import AttachmentStore, LocalAttachmentStore
from chat_svc.attachments import Attachments, Limits
from chat_svc.attachments_api import router as attachments_router
from chat_svc.commands import command_handlers
from chat_svc.customer_history import CustomerHistory
from chat_svc.customer_history_api import router as customer_history_router
from chat_svc.customers import Customers
from chat_svc.message_batch import MessageBatcher
from chat_svc.notes import Notes
from chat_svc.notes_api import router as notes_router
from chat_svc.presence import PRESENCE_QUEUE, presence_consumer, sweep_forever
from chat_svc.queue import EstimateSettings, QueueBoard, publish_forever
from chat_svc.queue_api import router as queue_router
from chat_svc.quick_replies import QuickReplies
from chat_svc.quick_replies_api import router as quick_replies_router
from chat_svc.ratings import RatingRules, Ratings
from chat_svc.ratings_api import router as ratings_router
from chat_svc.reply_deadlines import DeadlineSettings, ReplyDeadlines, WorkingTimeSource
from chat_svc.reply_deadlines import sweep_forever as deadlines_sweep_forever
from chat_svc.reports import ReportRules, Reports
from chat_svc.reports_api import router as reports_router
from chat_svc.search import Search
from chat_svc.search_api import router as search_router
from chat_svc.service import Chat
from chat_svc.settings import Settings
from chat_svc.working_hours_api import router as working_hours_router
from chat_svc.working_hours_store import working_time as configured_working_time

SERVICE = "chat-svc"
log = logging.getLogger(__name__)
DESCRIPTION = "Customer-service chat: sessions, messages, assignment to online admins."


@asynccontextmanager
async def _chat(runtime: Runtime, working_time: WorkingTimeSource) -> AsyncIterator[None]:
    settings: Settings = runtime.settings
    runtime.state.chat = Chat(runtime.work, capacity=settings.admin_capacity, default_priority=settings.default_priority,
                              presence_ttl_seconds=settings.presence_ttl_seconds, vip_priority=settings.vip_priority,
                              system_text_locale=settings.system_text_locale,
                              abandon_waiting_after_seconds=settings.abandon_waiting_after_seconds,
                              close_inactive_after_seconds=settings.close_inactive_after_seconds,
                              left_message_notify=settings.left_message_notify,
                              session_state_in_message_events=settings.session_state_in_message_events)
    runtime.state.agents = Agents(runtime.state.chat, AgentSettings(
        idle_away_seconds=settings.agent_idle_away_seconds, away_policy=settings.agent_away_policy,
        away_grace_seconds=settings.agent_away_grace_seconds))
    runtime.state.queue = QueueBoard(runtime.state.chat, interval_seconds=settings.queue_update_interval_seconds,
                                     estimate=EstimateSettings(settings.queue_estimate_window_seconds,
                                                               settings.queue_estimate_samples,
                                                               settings.queue_estimate_min_samples))
    runtime.state.customers = Customers(runtime.state.chat)
    runtime.state.message_batcher = MessageBatcher(runtime.state.chat, runtime.engine,
                                                   max_batch=settings.message_batch_max,
                                                   session_in_messages=settings.session_state_in_message_events)
    runtime.state.reply_deadlines = ReplyDeadlines(runtime.state.chat, DeadlineSettings(
        settings.reply_remind_after_seconds, settings.reply_reassign_after_seconds), working_time=working_time)
    runtime.state.notes = Notes(runtime.state.chat)
    runtime.state.search = Search(runtime.state.chat)
    runtime.state.customer_history = CustomerHistory(
        runtime.state.chat, messages_per_session=settings.history_messages_per_session)
    runtime.state.quick_replies = QuickReplies(runtime.state.chat, max_per_owner=settings.quick_replies_max)
    runtime.state.ratings = Ratings(runtime.state.chat, RatingRules(edit_seconds=settings.rating_edit_seconds,
                                                                    comment_max_chars=settings.rating_comment_max_chars))
    runtime.state.reports = Reports(runtime.state.chat, ReportRules(
        first_reply_deadline_seconds=settings.report_first_reply_deadline_seconds, max_days=settings.report_max_days))
    async with _attachment_store(settings) as files:
        runtime.state.attachments = _attachments(settings, runtime.state.chat, files)
        runtime.state.unsent_attachments = UnsentAttachments(runtime.engine, files,
                                                             max_age=timedelta(hours=settings.unsent_attachment_hours))
        try:
            yield
        finally:
            await runtime.state.message_batcher.close()


def _attachment_store(settings: Settings) -> AbstractAsyncContextManager[AttachmentStore]:
    """The store `CHAT_ATTACHMENTS_STORAGE` selects, open for the life of the app."""
    if settings.attachments_storage == "local":
        return nullcontext(LocalAttachmentStore(settings.attachments_dir))
    assert settings.s3_bucket is not None  # Settings refuses s3 without a bucket
    # Imported here: aiobotocore/botocore take ~40% of chat-svc's import time, for a store most runs do not use.
    from chat_svc.s3_attachment_store import S3AttachmentStore, S3Config

    secret = settings.s3_secret_access_key
    return S3AttachmentStore.open(S3Config(
        bucket=settings.s3_bucket, endpoint_url=settings.s3_endpoint_url, region=settings.s3_region,
        access_key_id=settings.s3_access_key_id, secret_access_key=secret.get_secret_value() if secret else None,
        key_prefix=settings.s3_key_prefix, addressing_style=settings.s3_addressing_style,
        timeout_seconds=settings.s3_timeout_seconds, max_attempts=settings.s3_max_attempts,
    ))


def _attachments(settings: Settings, chat: Chat, files: AttachmentStore) -> Attachments:
    if settings.attachment_url_secret is None:
        log.warning("CHAT_ATTACHMENT_URL_SECRET is not set: picture URLs are signed with a random key of this "
                    "process, so another chat-svc process refuses them (403); set the same secret everywhere")
        secret = secrets.token_bytes(32)
    else:
        secret = settings.attachment_url_secret.get_secret_value().encode()
    limits = Limits(max_bytes=settings.attachment_max_bytes, max_pixels=settings.attachment_max_pixels,
                    thumbnail_edge=settings.attachment_thumbnail_edge, ttl_seconds=settings.attachment_url_ttl_seconds,
                    max_concurrent=settings.attachment_max_concurrent_decodes)
    return Attachments(chat, files, secret=secret, limits=limits)


def create_app(settings: Settings | None = None, *, jwt_verifier: JwksVerifier | None = None,
               working_time: WorkingTimeSource = configured_working_time) -> FastAPI:
    """`working_time`: the working hours the reply deadlines count (default: the configured ones,
    `PUT /working-hours`; always open while nothing is configured). Tests pass their own."""
    settings = settings or Settings()
    app = build_service(
        SERVICE, settings, schema=db.SCHEMA, migrations=Path(__file__).parent / "alembic", description=DESCRIPTION,
        tables=Tables(db.outbox, db.idempotency_keys, db.processed_events, db.rate_limits,
                      own_retention=agent_alerts.retention_rules(settings)),
        routers=[router, attachments_router, agents_router, queue_router, quick_replies_router,
                 notes_router, customer_history_router, search_router, working_hours_router, ratings_router,
                 reports_router],
        start=lambda runtime: _chat(runtime, working_time), jwt_verifier=jwt_verifier,
        commands=lambda runtime: command_handlers(runtime.state.chat, runtime.state.message_batcher),
        consumers=[lambda runtime: presence_consumer(runtime.state.chat)], queues=[PRESENCE_QUEUE.name],
        tasks={"presence-sweep": lambda runtime: sweep_forever(runtime.state.chat, settings.presence_sweep_seconds),
               "agents-sweep": lambda runtime: agents_sweep_forever(runtime.state.agents, settings.agent_sweep_seconds),
               "queue-publisher": lambda runtime: publish_forever(runtime.state.queue, settings.queue_poll_seconds),
               "reply-deadlines": lambda runtime: deadlines_sweep_forever(runtime.state.reply_deadlines,
                                                                          settings.reply_deadline_sweep_seconds),
               "unsent-pictures": lambda runtime: prune_unsent_forever(runtime.state.unsent_attachments,
                                                                       settings.retention_interval_seconds)},
    )
    app.state.chat = None
    app.state.attachments = None
    app.state.unsent_attachments = None
    app.state.agents = None
    app.state.queue = None
    app.state.customers = None
    app.state.reply_deadlines = None
    app.state.quick_replies = None
    app.state.notes = None
    app.state.search = None
    app.state.customer_history = None
    app.state.ratings = None
    app.state.reports = None
    app.state.message_batcher = None
    return app
