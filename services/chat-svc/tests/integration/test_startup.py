"""Start-up: the schema is migrated, and the API answers while RabbitMQ is unreachable (events wait); while it runs,
old rows of its housekeeping tables are pruned."""

import asyncio

import httpx
import pytest
from chat_svc.main import create_app
from chat_svc.settings import Settings
from servicekit.relay_process import RelayProcess
from sqlalchemy import text

from .conftest import BASE, MINT, new_id, user_headers

pytestmark = pytest.mark.integration


async def test_without_rabbitmq_the_api_answers_and_events_wait_in_the_outbox(make_database):
    settings = Settings(database_url=await make_database(), amqp_url="amqp://guest:guest@127.0.0.1:1/")
    app = create_app(settings, jwt_verifier=MINT.verifier())
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://chat") as client:
            opened = await client.post(f"{BASE}/sessions", json={"content": "anyone?"}, headers=user_headers(new_id()))
            health = await client.get("/health")
        async with app.state.engine.connect() as conn:
            pending = (await conn.execute(text(
                "SELECT event_type FROM chat.outbox WHERE published_at IS NULL ORDER BY id"))).scalars().all()
            tables = set((await conn.execute(text(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'chat'"))).scalars())
    assert opened.status_code == 201
    # the user's message, then (nobody online) the notice to the user and the left message for the admins
    assert pending == ["chat.message_created", "chat.message_created", "chat.message_left", "chat.session_updated"]
    assert health.status_code == 503
    assert health.json()["checks"] == {"database": "ok", "broker": "fail", "outbox_relay": "ok"}
    assert tables == {"alembic_version", "sessions", "messages", "admins", "gateways", "admin_presence",
                      "processed_events", "outbox", "idempotency_keys", "rate_limits", "attachments", "customers",
                      "queue_departures", "queue_positions", "queue_publisher", "reply_deadlines", "agent_alerts",
                      "quick_replies", "session_notes", "working_hours", "ratings", "session_facts"}


async def test_old_published_events_processed_ids_and_idempotency_keys_are_pruned_while_it_runs(make_database):
    settings = Settings(database_url=await make_database(), amqp_url="amqp://guest:guest@127.0.0.1:1/",
                        retention_interval_seconds=0.2)
    app = create_app(settings, jwt_verifier=MINT.verifier())
    old, recent = "now() - interval '8 days'", "now() - interval '1 hour'"
    async with app.router.lifespan_context(app):
        async with app.state.engine.begin() as conn:
            for event_type, published in [("old.published", old), ("recent.published", recent),
                                          ("old.pending", "NULL")]:
                await conn.execute(text(
                    "INSERT INTO chat.outbox (event_id, event_type, exchange, routing_key, aggregate_id, body, created_at,"
                    f" published_at) VALUES (gen_random_uuid(), :t, 'chat.events', :t, '1', '{{}}', {old}, {published})"), {"t": event_type})
            for event_type, at in [("old", old), ("recent", recent)]:
                await conn.execute(text("INSERT INTO chat.processed_events (event_id, event_type, processed_at)"
                                        f" VALUES (gen_random_uuid(), :t, {at})"), {"t": event_type})
            for key, at in [("old", "now() - interval '2 days'"), ("recent", recent)]:
                await conn.execute(text("INSERT INTO chat.idempotency_keys (user_id, key, fingerprint, status, body,"
                                        f" created_at) VALUES (1, :k, 'f', 201, '{{}}', {at})"), {"k": key})

        async def left() -> list[list[str]]:
            found = []
            async with app.state.engine.connect() as conn:
                for query in ("SELECT event_type FROM chat.outbox", "SELECT event_type FROM chat.processed_events",
                              "SELECT key FROM chat.idempotency_keys"):
                    found.append(sorted((await conn.execute(text(query))).scalars()))
            return found

        expected = [["old.pending", "recent.published"], ["recent"], ["recent"]]
        async with asyncio.timeout(10):
            while await left() != expected:
                await asyncio.sleep(0.1)


async def test_chat_svc_takes_its_broker_and_relay_timeouts_from_settings(make_database, monkeypatch):
    monkeypatch.setenv("CHAT_PUBLISH_TIMEOUT", "2.5")
    monkeypatch.setenv("CHAT_BROKER_MAX_BACKOFF", "1.5")
    monkeypatch.setenv("CHAT_RELAY_POLL_INTERVAL", "0.5")
    monkeypatch.setenv("CHAT_RELAY_MAX_BACKOFF", "3")
    settings = Settings(database_url=await make_database(), amqp_url="amqp://guest:guest@127.0.0.1:1/")
    app = create_app(settings, jwt_verifier=MINT.verifier())
    async with app.router.lifespan_context(app):
        broker, relay = app.state.broker, app.state.relay
        assert (broker._publish_timeout, broker._max_backoff) == (2.5, 1.5)
        assert isinstance(relay, RelayProcess)  # chat-svc's relay runs in a child process of its own by default
        assert (relay.config.poll_interval, relay.config.max_backoff) == (0.5, 3.0)
        assert (relay.config.publish_timeout, relay.config.broker_max_backoff) == (2.5, 1.5)
