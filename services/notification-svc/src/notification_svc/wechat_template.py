"""The data of a subscribe message announcing an admin's reply: which template field carries what
(`NOTIFICATION_WECHAT_FIELDS`), cut to the limits WeChat documents for the field's type, since WeChat refuses a
message whose value is too long (47003) instead of shortening it."""

from typing import Any

from contracts.payloads import ChatMessageData
from contracts.time import BEIJING_TZ

LIMITS = {"thing": 20, "character_string": 32, "number": 32, "letter": 32, "symbol": 5, "phrase": 5, "name": 10}
"""Most characters per template field type (the field name without its digits: `thing1` is a `thing`)."""
IMAGE_TEXT = "[图片]"
"""What a picture reply reads as (the template shows text only)."""


def field_type(name: str) -> str:
    return name.rstrip("0123456789")


def fit(name: str, value: str) -> str:
    limit = LIMITS.get(field_type(name))
    if limit is None or len(value) <= limit:
        return value
    return value[: limit - 1] + "…"


def reply_data(message: ChatMessageData, fields: dict[str, str]) -> dict[str, dict[str, Any]]:
    """`data` of `message/subscribe/send` for this reply: `{<field>: {"value": ...}}`."""
    at = message.created_at.astimezone(BEIJING_TZ)
    values = {
        "content": IMAGE_TEXT if message.message_type == "image" else " ".join(message.message_content.split()),
        "time": f"{at.year}年{at.month}月{at.day}日 {at:%H:%M}",
    }
    return {name: {"value": fit(name, values[what])} for what, name in fields.items() if what in values}
