"""Alerts for one agent (`chat.agent_alerted`, pushed by the gateway as `system:alert` to that agent's sockets
only): a row in `chat.agent_alerts` (its id is the `alert_id`) and the event, in the caller's transaction.
Nothing reads a row back: it is kept `CHAT_RETENTION_HOURS`, like the published events (`retention_rules`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from contracts.events.payloads import ChatAgentAlerted
from contracts.events.registry import CHAT_AGENT_ALERTED
from contracts.payloads import AlertData
from contracts.payloads.system import AlertLevel
from contracts.payloads.system_text import Locale, SystemTextParams, render, system_text
from servicekit.retention import Prune, RetentionSettings
from servicekit.uow import UnitOfWork

from chat_svc import reply_deadlines_store
from chat_svc.db import agent_alerts

TITLE: dict[Locale, str] = {"zh-CN": "客服提醒", "en": "Agent reminder"}
"""The fallback title (the console shows its catalogue's `alert_title.<code>` instead)."""


async def alert(uow: UnitOfWork, admin_id: int, note: SystemTextParams, *, level: AlertLevel, at: datetime,
                locale: Locale, session_id: int | None = None) -> AlertData:
    """Raise `note` (a system text: code + params) for `admin_id`; `message` is its rendering in `locale`, the
    fallback of clients that know no codes."""
    code, params = system_text(note)
    alert_id = await reply_deadlines_store.insert_alert(uow.db, admin_id, session_id, code, params, at)
    data = AlertData(alert_id=alert_id, level=level, title=TITLE[locale], message=render(code, params, locale),
                     created_at=at, code=code, params=params)
    await uow.publish(CHAT_AGENT_ALERTED, ChatAgentAlerted(admin_id=admin_id, alert=data), aggregate_id=admin_id)
    return data


def retention_rules(settings: RetentionSettings) -> tuple[Prune, ...]:
    """Alerts older than `retention_hours` go (servicekit.retention)."""
    return (Prune(agent_alerts, "created_at", timedelta(hours=settings.retention_hours)),)
