"""The gateway's ``notification.mark_read`` command through a real CommandClient on the app's vhost."""

from collections.abc import AsyncIterator

import pytest_asyncio
from contracts.events.commands import NOTIFICATION_MARK_READ, CommandMessage, new_command
from contracts.events.registry import NOTIFICATION_READ_STATE_CHANGED
from contracts.identity import Principal
from contracts.socketio.client import MarkReadPayload
from servicekit.amqp import connect
from servicekit.commands import CommandClient

from .conftest import new_id, tap


@pytest_asyncio.fixture(loop_scope="session")
async def commands(service) -> AsyncIterator[CommandClient]:
    connection = await connect(service.amqp_url, name="gateway-test")
    try:
        client = CommandClient(connection, client_id=f"gw-test-{new_id()}", timeout=5)
        await client.start()
        yield client
    finally:
        await connection.close()


def admin(user_id: int) -> Principal:
    return Principal(user_id=user_id, user_type="admin", username=f"admin{user_id}")


async def test_mark_read_by_command_acts_like_the_rest_route_and_publishes_one_event(service, commands):
    me = new_id()
    sent = (await service.client.post(
        "/api/v4/notifications/send", json={"type": "user", "title": "t", "content": "c", "target_user_id": me},
        headers=service.admin(),
    )).json()
    payload = MarkReadPayload(notification_id=sent["notification_id"])
    async with tap(service.amqp_url) as events:
        reply = await commands.call(new_command(NOTIFICATION_MARK_READ, admin(me), payload))
        again = await commands.call(new_command(NOTIFICATION_MARK_READ, admin(me), payload))
        got = await events.expect(
            1, lambda e: e.envelope.event_type == NOTIFICATION_READ_STATE_CHANGED and e.payload.user_id == me,
            settle=0.8,
        )
    assert reply.ok and reply.result == {"notification_id": sent["notification_id"], "is_read": True}
    assert again.ok and again.result == reply.result
    [event] = got
    assert event.payload.notification_ids == [sent["notification_id"]]
    assert event.envelope.correlation_id == str(reply.command_id)
    listed = (await service.client.get(f"/api/v4/notifications/{sent['notification_id']}",
                                       headers=service.admin(me))).json()
    assert listed["is_read"] is True


async def test_mark_read_by_command_refuses_missing_foreign_and_non_admin_callers(service, commands):
    theirs = (await service.client.post(
        "/api/v4/notifications/send", json={"type": "user", "title": "t", "content": "c", "target_user_id": new_id()},
        headers=service.admin(),
    )).json()
    me = new_id()
    foreign = await commands.call(new_command(
        NOTIFICATION_MARK_READ, admin(me), MarkReadPayload(notification_id=theirs["notification_id"])))
    missing = await commands.call(new_command(
        NOTIFICATION_MARK_READ, admin(me), MarkReadPayload(notification_id=2**63)))
    user = Principal(user_id=me, user_type="user", username="someone")
    forbidden = await commands.call(new_command(
        NOTIFICATION_MARK_READ, user, MarkReadPayload(notification_id=theirs["notification_id"])))
    invalid = await commands.call(CommandMessage(
        command=NOTIFICATION_MARK_READ, principal=admin(me), payload={"notification_id": "1"}))

    assert not foreign.ok and foreign.error.code == "not_found"
    assert not missing.ok and missing.error.code == "not_found"
    assert not forbidden.ok and forbidden.error.code == "forbidden"
    assert not invalid.ok and invalid.error.code == "invalid_payload" and "notification_id" in invalid.error.message
