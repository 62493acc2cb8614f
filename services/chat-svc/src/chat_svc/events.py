"""What chat-svc publishes (through the outbox, in the transaction of the change) and how rows become the
contract's data models.

Published on `chat.events`, aggregate_id = the session id:
- `chat.message_created` (ChatMessageCreated): every message, user/admin/system, with the session's user and
  admin at that moment so the gateway can route it to both.
- `chat.session_assigned` (ChatSessionAssigned): a session got an admin (reason auto | transfer | claim).
- `chat.session_updated` (ChatSessionUpdated): once per changed session per transaction, last, with the
  session's final state.
Consumed: `presence.*` from `gateway.presence` (see chat_svc.presence).

System messages are stored with sender_type 'system' and sender_id = the admin the message is about (the
newly assigned admin, the transfer target, the admin who closed). The contract's `sender_type` knows only
user | admin, so on the wire they are `sender_type: "admin"`, `message_type: "system"`. Their text is a code
and parameters (`system_code`, `system_params`, contracts.payloads.system_text) that each client renders in its
language; `message_content` is the server's rendering in `CHAT_SYSTEM_TEXT_LOCALE`.
"""

from __future__ import annotations

from contracts.events.payloads import ChatMessageCreated, ChatSessionAssigned, ChatSessionUpdated
from contracts.events.registry import (
    CHAT_MESSAGE_CREATED,
    CHAT_SESSION_ASSIGNED,
    CHAT_SESSION_UPDATED,
)
from contracts.payloads import AssignmentData, AssignmentReason, ChatMessageData, SessionData
from pydantic import BaseModel
from servicekit.uow import UnitOfWork

from chat_svc import store
from chat_svc.rows import MessageRow, SessionRow


def session_data(row: SessionRow) -> SessionData:
    return SessionData(
        session_id=row.id, user_id=row.user_id, admin_id=row.admin_id, status=row.status, priority=row.priority,
        unread_count=row.admin_unread_count, last_message=row.last_message, created_at=row.created_at,
        updated_at=row.updated_at,
    )


def message_data(row: MessageRow) -> ChatMessageData:
    return ChatMessageData(
        message_id=row.id, session_id=row.session_id,
        sender_type="admin" if row.sender_type == "system" else row.sender_type,
        sender_id=row.sender_id, message_content=row.content, message_type=row.message_type,
        created_at=row.created_at, system_code=row.system_code, system_params=row.system_params,
    )


class EventLog:
    """The chat events of one unit of work (servicekit.uow), written to the outbox as they happen;
    `session_updated` is deferred to the end of the unit so each changed session is announced once, with its
    final state."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self._changed: dict[int, None] = {}
        uow.before_commit(self.flush)

    async def _emit(self, event_type: str, payload: BaseModel, session_id: int) -> None:
        await self._uow.publish(event_type, payload, aggregate_id=session_id)

    async def message_created(self, message: MessageRow, session: SessionRow) -> None:
        payload = ChatMessageCreated(message=message_data(message), user_id=session.user_id,
                                     admin_id=session.admin_id)
        await self._emit(CHAT_MESSAGE_CREATED, payload, session.id)
        self.session_changed(session.id)

    async def session_assigned(self, session: SessionRow, reason: AssignmentReason) -> None:
        if session.admin_id is None or session.assigned_at is None:  # set together by store.set_assigned
            raise ValueError(f"session {session.id} is not assigned")
        assignment = AssignmentData(session_id=session.id, user_id=session.user_id, admin_id=session.admin_id,
                                    priority=session.priority, assigned_at=session.assigned_at, reason=reason)
        await self._emit(CHAT_SESSION_ASSIGNED, ChatSessionAssigned(assignment=assignment), session.id)
        self.session_changed(session.id)

    def session_changed(self, session_id: int) -> None:
        self._changed[session_id] = None

    async def flush(self) -> None:
        for session_id in self._changed:
            row = await store.get_session(self._uow.db, session_id)
            if row is not None:
                await self._emit(CHAT_SESSION_UPDATED, ChatSessionUpdated(session=session_data(row)), session_id)
        self._changed.clear()
