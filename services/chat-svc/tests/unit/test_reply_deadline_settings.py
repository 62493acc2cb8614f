"""The reply deadlines' settings: the reminder comes before the reassignment."""

import pytest
from chat_svc.settings import Settings
from pydantic import ValidationError


def test_the_reassignment_deadline_must_come_after_the_reminder():
    with pytest.raises(ValidationError, match="CHAT_REPLY_REASSIGN_AFTER_SECONDS"):
        Settings(reply_remind_after_seconds=120, reply_reassign_after_seconds=60)
    assert Settings(reply_remind_after_seconds=0, reply_reassign_after_seconds=30).reply_reassign_after_seconds == 30
    defaults = Settings()
    assert (defaults.reply_remind_after_seconds, defaults.reply_reassign_after_seconds) == (60, 180)
