"""Pictures uploaded and never sent are deleted after `CHAT_UNSENT_ATTACHMENT_HOURS`, row and files
(chat_svc.attachment_cleanup); a sent picture stays, and so does one a message is being sent with right then."""

from pathlib import Path

import pytest
from sqlalchemy import text

from .conftest import BASE, new_id, user_headers
from .test_attachments import picture, upload

pytestmark = pytest.mark.integration


async def _age(stack, *attachment_ids: str) -> None:
    """Backdates the uploads past the age the cleanup waits for."""
    async with stack.app.state.engine.begin() as conn:
        await conn.execute(text("UPDATE chat.attachments SET created_at = now() - make_interval(hours => :h + 1) "
                                "WHERE id = ANY(CAST(:ids AS uuid[]))"),
                           {"h": stack.app.state.settings.unsent_attachment_hours, "ids": list(attachment_ids)})


async def _left(stack, *attachment_ids: str) -> set[str]:
    async with stack.app.state.engine.connect() as conn:
        rows = await conn.execute(text("SELECT id::text FROM chat.attachments WHERE id = ANY(CAST(:ids AS uuid[]))"),
                                  {"ids": list(attachment_ids)})
        return {r[0] for r in rows}


def _files(stack, attachment_id: str) -> list[Path]:
    """The attachment's files and folder in the local store."""
    return sorted(Path(stack.app.state.settings.attachments_dir).glob(f"{attachment_id}*"))


async def test_an_old_picture_never_sent_goes_with_its_files_and_a_sent_one_stays(stack):
    user = new_id()
    session_id = (await stack.open_session(user))["session_id"]
    sent, unsent, recent = [
        (await upload(stack, session_id, picture(), user_headers(user))).json()["attachment_id"] for _ in range(3)]
    response = await stack.client.post(f"{BASE}/sessions/{session_id}/messages", headers=user_headers(user),
                                       json={"message_type": "image", "content": sent})
    assert response.status_code == 201, response.text
    assert _files(stack, unsent), "the upload stored files"
    await _age(stack, sent, unsent)

    assert await stack.app.state.unsent_attachments.prune_once() >= 1

    assert await _left(stack, sent, unsent, recent) == {sent, recent}
    assert _files(stack, unsent) == []
    assert _files(stack, sent) and _files(stack, recent)
    picture_of_sent = await stack.client.get(f"{BASE}/sessions/{session_id}/attachments/{sent}",
                                             headers=user_headers(user))
    assert picture_of_sent.status_code == 200, picture_of_sent.text


async def test_a_picture_being_sent_while_the_cleanup_runs_is_left_alone(stack):
    user = new_id()
    session_id = (await stack.open_session(user))["session_id"]
    attachment_id = (await upload(stack, session_id, picture(), user_headers(user))).json()["attachment_id"]
    await _age(stack, attachment_id)
    async with stack.app.state.engine.begin() as sender:  # what Chat.send_message holds until it commits
        await sender.execute(text("SELECT id FROM chat.attachments WHERE id = CAST(:id AS uuid) FOR SHARE"),
                             {"id": attachment_id})
        await stack.app.state.unsent_attachments.prune_once()
        assert await _left(stack, attachment_id) == {attachment_id}
    assert _files(stack, attachment_id)
