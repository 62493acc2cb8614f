"""Start-up: the schema is migrated, and the API answers while RabbitMQ is unreachable (events wait)."""

import httpx
import pytest
from sqlalchemy import text

from chat_svc.main import create_app
from chat_svc.settings import Settings

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
    assert pending == ["chat.message_created", "chat.session_updated"]
    assert health.status_code == 503
    assert health.json()["checks"] == {"database": "ok", "broker": "fail", "outbox_relay": "ok"}
    assert tables == {"alembic_version", "sessions", "messages", "admins", "gateways", "admin_presence",
                      "processed_events", "outbox", "idempotency_keys"}
