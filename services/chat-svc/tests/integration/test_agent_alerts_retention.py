"""Agents' reminders (`chat.agent_alerts`) are written once and never read back: they go after
`CHAT_RETENTION_HOURS` with the published events (chat_svc.agent_alerts.retention_rules)."""

import pytest
from chat_svc.agent_alerts import retention_rules
from servicekit.retention import prune_once
from sqlalchemy import text

pytestmark = pytest.mark.integration


async def test_alerts_older_than_the_retention_go_and_recent_ones_stay(stack, admin_id):
    engine = stack.app.state.engine
    async with engine.begin() as conn:
        await conn.execute(text(
            "INSERT INTO chat.agent_alerts (admin_id, code, params, created_at) VALUES "
            "(:a, 'old', '{}', now() - make_interval(hours => :h + 1)), (:a, 'new', '{}', now())"),
            {"a": admin_id, "h": stack.app.state.settings.retention_hours})
    await prune_once(engine, retention_rules(stack.app.state.settings))
    async with engine.connect() as conn:
        left = (await conn.execute(text("SELECT code FROM chat.agent_alerts WHERE admin_id = :a"),
                                   {"a": admin_id})).scalars().all()
    assert left == ["new"]
