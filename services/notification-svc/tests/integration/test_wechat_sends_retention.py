"""Subscribe messages (`notification.wechat_sends`) are settled within minutes and never read back after: they go
after `NOTIFICATION_RETENTION_HOURS` (notification_svc.wechat_sender.retention_rules), like published events."""

from __future__ import annotations

from notification_svc.wechat_sender import retention_rules
from servicekit.retention import prune_once
from sqlalchemy import text

from .conftest import Service, new_id


async def test_subscribe_messages_older_than_the_retention_go_and_recent_ones_stay(service: Service) -> None:
    engine, settings, user = service.app.state.engine, service.app.state.settings, new_id()
    async with engine.begin() as conn:
        await conn.execute(text(
            "INSERT INTO notification.wechat_sends (message_id, user_id, openid, template_id, page, data, status, "
            "created_at) VALUES (1, :u, 'o', 't', 'p', '{}', 'sent', now() - make_interval(hours => :h + 1)), "
            "(2, :u, 'o', 't', 'p', '{}', 'sent', now())"), {"u": user, "h": settings.retention_hours})
    await prune_once(engine, retention_rules(settings))
    async with engine.connect() as conn:
        left = (await conn.execute(text("SELECT message_id FROM notification.wechat_sends WHERE user_id = :u"),
                                   {"u": user})).scalars().all()
    assert left == [2]


def test_the_service_prunes_subscribe_messages(service: Service) -> None:
    """The rule is wired into the service's housekeeping, not only defined."""
    assert "notification.wechat_sends" in {rule.name for rule in service.app.state.retention_rules}
