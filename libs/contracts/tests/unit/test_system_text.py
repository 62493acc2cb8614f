"""Issue 16: server-written text as a code + parameters on ChatMessageData and AlertData (optional fields, the
spec's fields unchanged), validated against the code's parameters model, with a fallback rendering per language."""

from __future__ import annotations

from typing import Any

import pytest
from contracts.cli.asyncapi import build_asyncapi
from contracts.payloads import AlertData, ChatMessageData
from contracts.payloads.system_text import (
    SYSTEM_TEXTS,
    AgentJoinedParams,
    SessionTransferredParams,
    render,
    system_text,
)
from pydantic import ValidationError

MESSAGE: dict[str, Any] = {
    "message_id": 1, "session_id": 2, "sender_type": "admin", "sender_id": 7, "message_content": "客服 #7 已加入会话",
    "message_type": "system", "created_at": "2026-12-07T10:14:00.000+08:00",
}
ALERT: dict[str, Any] = {"alert_id": 1, "level": "warning", "title": "t", "message": "m",
                         "created_at": "2026-12-07T10:14:00.000+08:00"}


def test_a_system_message_carries_its_code_and_params_and_a_message_without_them_is_as_the_spec_says() -> None:
    coded = ChatMessageData.model_validate({**MESSAGE, "system_code": "agent_joined", "system_params": {"agent_id": 7}})
    assert coded.model_dump(mode="json")["system_params"] == {"agent_id": 7}
    plain = ChatMessageData.model_validate(MESSAGE).model_dump(mode="json")
    assert "system_code" not in plain and "system_params" not in plain  # omitted, not null: the spec's shape


@pytest.mark.parametrize("extra", [
    {"system_code": "agent_joined", "system_params": {"agent": 7}},
    {"system_code": "session_transferred", "system_params": {"from_agent_id": 1}},
    {"system_params": {"agent_id": 7}},
    {"system_code": "Bad Code", "system_params": {}},
])
def test_params_that_do_not_fit_their_code_are_refused(extra: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ChatMessageData.model_validate({**MESSAGE, **extra})


def test_an_unknown_code_from_a_newer_producer_is_accepted_so_the_fallback_text_can_be_shown() -> None:
    data = ChatMessageData.model_validate({**MESSAGE, "system_code": "added_later", "system_params": {"x": 1}})
    assert data.system_code == "added_later"


def test_an_alert_may_carry_a_code_and_params_checked_the_same_way() -> None:
    AlertData.model_validate({**ALERT, "code": "agent_joined", "params": {"agent_id": 3}})
    with pytest.raises(ValidationError):
        AlertData.model_validate({**ALERT, "code": "agent_joined", "params": {}})


def test_the_fallback_text_is_rendered_from_the_registry_in_either_language() -> None:
    code, params = system_text(SessionTransferredParams(from_agent_id=1, to_agent_id=2))
    assert (code, params) == ("session_transferred", {"from_agent_id": 1, "to_agent_id": 2})
    assert render(code, params) == "会话已由客服 #1 转接给客服 #2"
    assert render(code, params, "en") == "Conversation transferred from agent #1 to agent #2"
    assert render(*system_text(AgentJoinedParams(agent_id=9)), "en") == "Agent #9 joined the conversation"


def test_the_asyncapi_document_lists_every_code_with_its_params_schema() -> None:
    schemas = build_asyncapi()["components"]["schemas"]
    codes = schemas["SystemTextCode"]
    assert codes["enum"] == list(SYSTEM_TEXTS)
    for code, entry in SYSTEM_TEXTS.items():
        assert codes["x-params"][code] == {"$ref": f"#/components/schemas/{entry.params.__name__}"}
        assert entry.params.__name__ in schemas
