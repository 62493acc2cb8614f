"""Socket commands chat-svc answers for the gateway.

- `chat.send_message`: carried out by the very use case the REST route
  `POST /api/v4/customer-service/sessions/{id}/messages` calls, as the command's principal. Reply
  `{ok: true, result: ChatMessageData}` or an error code: forbidden, not_found, session_closed, invalid_payload
  (the payload is validated by servicekit before the handler runs), idempotency_key_reused (its `client_msg_id`
  already named another message). Its answer is kept under the sender's `client_msg_id` (the REST send's
  `Idempotency-Key`), else under the command id: sent or delivered again, it gets the first answer.
- `chat.session_participants`: who takes part in a session and its status (`SessionParticipants`), for the
  gateway's typing relay when its cache misses; the gateway decides who may type. not_found if there is none.

Refusals (`servicekit.errors.DomainError`) become error replies in servicekit.commands, as in every service.
"""

from __future__ import annotations

from typing import Any

from contracts.events.commands import (
    CHAT_SEND_MESSAGE,
    CHAT_SESSION_PARTICIPANTS,
    CommandMessage,
    CommandName,
    SessionParticipants,
    SessionRef,
)
from contracts.identity import Principal
from contracts.socketio.client import SendMessagePayload
from servicekit.commands import CommandHandler

from chat_svc.message_batch import COMMAND_KEY_PREFIX, MessageBatcher
from chat_svc.service import Chat


def command_handlers(chat: Chat, batcher: MessageBatcher | None = None) -> dict[CommandName, CommandHandler]:
    """`batcher`: `chat.send_message` commands are group-committed through it (chat_svc.message_batch), with the
    rules of `Chat.send_message`, which writes them one by one without it."""
    send = batcher.send if batcher is not None else chat.send_message

    async def send_message(principal: Principal, payload: SendMessagePayload, command: CommandMessage) -> dict[str, Any]:
        key = payload.client_msg_id or COMMAND_KEY_PREFIX + str(command.command_id)
        return await send(principal, payload.session_id, payload.content, payload.message_type,
                          correlation_id=str(command.command_id), idempotency_key=key)

    async def session_participants(_principal: Principal, payload: SessionRef, _command: CommandMessage) -> SessionParticipants:
        session = await chat.session_snapshot(payload.session_id)
        return SessionParticipants(
            session_id=session.session_id, user_id=session.user_id, admin_id=session.admin_id, status=session.status
        )

    return {CHAT_SEND_MESSAGE: send_message, CHAT_SESSION_PARTICIPANTS: session_participants}
