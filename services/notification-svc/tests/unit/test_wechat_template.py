"""The template data of a reply: WeChat's per-type limits, pictures, Beijing time."""

from datetime import UTC, datetime

from contracts.payloads import ChatMessageData
from notification_svc.wechat_template import reply_data

FIELDS = {"content": "thing1", "time": "time2"}


def message(content: str, kind: str = "text") -> ChatMessageData:
    return ChatMessageData(message_id=1, session_id=2, sender_type="admin", sender_id=3, message_content=content,
                           message_type=kind, created_at=datetime(2026, 1, 2, 1, 5, tzinfo=UTC))


def test_a_thing_field_is_cut_to_twenty_characters_and_time_is_beijing_time():
    data = reply_data(message("一二三四五六七八九十一二三四五六七八九十多"), FIELDS)
    assert data == {"thing1": {"value": "一二三四五六七八九十一二三四五六七八九…"}, "time2": {"value": "2026年1月2日 09:05"}}
    assert len(data["thing1"]["value"]) == 20


def test_short_text_is_kept_with_its_whitespace_collapsed_and_a_picture_reads_as_one():
    assert reply_data(message("好的\n 马上处理"), {"content": "thing1"}) == {"thing1": {"value": "好的 马上处理"}}
    picture = message("0f8fad5b-d9cb-469f-a165-70867728950e", "image")
    assert reply_data(picture, {"content": "character_string3"}) == {"character_string3": {"value": "[图片]"}}
