"""Every send to one admin queues on that admin's badge row (`unread.lock`) until the holder commits: the
notification and its `notification.created` event are written before that lock is taken, so the locked part of
the transaction is only the badge (bench cell 11: sends to one admin, lock waits in pg_stat_activity)."""

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from notification_svc import events, notifications, unread


class _Db:
    def __init__(self, calls: list[str]) -> None:
        self.calls = calls

    async def execute(self, statement: Any, params: Any = None) -> Any:
        self.calls.append("insert notification")
        return SimpleNamespace(one=lambda: SimpleNamespace(id=7, created_at=datetime.now(UTC)))


async def test_a_targeted_send_writes_the_notification_and_its_event_before_taking_the_admins_badge_lock(
    monkeypatch: Any,
) -> None:
    calls: list[str] = []

    def step(name: str) -> Any:
        async def record(*args: Any, **kwargs: Any) -> None:
            calls.append(name)
        return record

    monkeypatch.setattr(unread, "lock", step("lock badge"))
    monkeypatch.setattr(unread, "adjust", step("adjust badge"))
    monkeypatch.setattr(unread, "announce", step("announce badge"))
    monkeypatch.setattr(events, "notification_created", step("notification.created"))
    uow = SimpleNamespace(db=_Db(calls))
    new = notifications.NewNotification(type="system", title="t", content="c", target_user_id=3)
    created = await notifications.create_notification(uow, new, created_by=1)  # type: ignore[arg-type]
    assert created.notification_id == 7
    assert calls == ["insert notification", "notification.created", "lock badge", "adjust badge", "announce badge"]
