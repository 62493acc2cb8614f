"""`chat:send_message` with a `client_msg_id` becomes the command its sender and id name: a resend is the same
command (chat-svc answers it with the first answer), and a resend while the first waits shares its reply."""

import asyncio
from uuid import UUID

from contracts.events.commands import CHAT_SEND_MESSAGE, CommandMessage, CommandReply, client_command_id
from contracts.identity import Principal
from realtime_gateway.clients.commands import Commands
from realtime_gateway.ops.metrics import Metrics

ALICE = Principal(user_id=7, user_type="user", username="alice")
BOB = Principal(user_id=8, user_type="user", username="bob")


class FakeCommandClient:
    """Records every command sent; answers when the test releases it."""

    def __init__(self) -> None:
        self.sent: list[CommandMessage] = []
        self.release = asyncio.Event()

    async def call(self, command: CommandMessage, *, timeout: float | None = None) -> CommandReply:
        self.sent.append(command)
        await self.release.wait()
        return CommandReply.success(command.command_id, {"message_id": len(self.sent),
                                                         "content": command.payload["content"]})


def commands(client: FakeCommandClient) -> Commands:
    return Commands(lambda: client, Metrics(lambda: 0), timeout=5.0)  # type: ignore[arg-type, return-value]


def test_the_same_sender_and_client_msg_id_give_the_same_command_id():
    assert client_command_id(CHAT_SEND_MESSAGE, ALICE, "m-1") == client_command_id(CHAT_SEND_MESSAGE, ALICE, "m-1")
    assert isinstance(client_command_id(CHAT_SEND_MESSAGE, ALICE, "m-1"), UUID)


def test_another_user_or_another_client_msg_id_gives_another_command_id():
    mine = client_command_id(CHAT_SEND_MESSAGE, ALICE, "m-1")
    assert client_command_id(CHAT_SEND_MESSAGE, BOB, "m-1") != mine
    assert client_command_id(CHAT_SEND_MESSAGE, ALICE, "m-2") != mine
    as_admin = Principal(user_id=7, user_type="admin", username="alice", role="agent")
    assert client_command_id(CHAT_SEND_MESSAGE, as_admin, "m-1") != mine


async def test_a_message_sent_again_with_its_client_msg_id_is_sent_as_the_same_command():
    client = FakeCommandClient()
    client.release.set()
    gateway = commands(client)
    data = {"session_id": 3, "content": "hi", "client_msg_id": "m-1"}

    await gateway.send_message("sid-1", ALICE, data)
    await gateway.send_message("sid-2", ALICE, data)  # the page resent after its ack was lost, maybe reconnected

    assert [c.command_id for c in client.sent] == [client_command_id(CHAT_SEND_MESSAGE, ALICE, "m-1")] * 2
    assert client.sent[0].payload == data


async def test_a_message_without_client_msg_id_is_a_new_command_each_time():
    client = FakeCommandClient()
    client.release.set()
    gateway = commands(client)

    await gateway.send_message("sid-1", ALICE, {"session_id": 3, "content": "hi"})
    await gateway.send_message("sid-1", ALICE, {"session_id": 3, "content": "hi"})

    assert client.sent[0].command_id != client.sent[1].command_id
    assert "client_msg_id" not in client.sent[0].payload  # the spec's two fields, as before


async def test_a_resend_while_the_first_send_waits_shares_its_reply_as_one_command():
    client = FakeCommandClient()
    gateway = commands(client)
    data = {"session_id": 3, "content": "hi", "client_msg_id": "m-1"}

    first = asyncio.create_task(gateway.send_message("sid-1", ALICE, data))
    await asyncio.sleep(0)
    again = asyncio.create_task(gateway.send_message("sid-1", ALICE, data))
    await asyncio.sleep(0)
    client.release.set()

    assert await first == await again
    assert len(client.sent) == 1


async def test_another_message_under_a_waiting_client_msg_id_is_sent_after_it_for_the_service_to_judge():
    client = FakeCommandClient()
    gateway = commands(client)

    first = asyncio.create_task(gateway.send_message("sid-1", ALICE, {"session_id": 3, "content": "hi",
                                                                      "client_msg_id": "m-1"}))
    await asyncio.sleep(0)
    other = asyncio.create_task(gateway.send_message("sid-1", ALICE, {"session_id": 3, "content": "other",
                                                                      "client_msg_id": "m-1"}))
    await asyncio.sleep(0)
    assert len(client.sent) == 1
    client.release.set()
    await first
    await other

    assert [c.payload["content"] for c in client.sent] == ["hi", "other"]


async def test_a_resend_waiting_on_a_first_send_that_was_abandoned_is_answered_unavailable_not_left_hanging():
    client = FakeCommandClient()
    gateway = commands(client)
    data = {"session_id": 3, "content": "hi", "client_msg_id": "m-1"}

    first = asyncio.create_task(gateway.send_message("sid-1", ALICE, data))
    await asyncio.sleep(0)
    again = asyncio.create_task(gateway.send_message("sid-2", ALICE, data))
    await asyncio.sleep(0)
    first.cancel()

    assert (await again)["error"]["code"] == "unavailable"  # its client sends it again, with the same id
    client.release.set()
    assert (await gateway.send_message("sid-2", ALICE, data))["ok"] is True
