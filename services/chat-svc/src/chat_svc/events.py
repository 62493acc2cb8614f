"""What chat-svc publishes (through the outbox, in the transaction of the change) and how rows become the
contract's data models.

Published on `chat.events`, aggregate_id = the session id:
- `chat.message_created` (ChatMessageCreated): every message, user/admin/system, with the session's user and
  admin at that moment so the gateway can route it to both.
- `chat.session_assigned` (ChatSessionAssigned): a session got an admin (reason auto | transfer | claim).
- `chat.session_updated` (ChatSessionUpdated): once per changed session per transaction, last, with the
  session's final state; except a session only messages changed (`CHAT_SESSION_STATE_IN_MESSAGE_EVENTS`): its
  final state then rides on its last `chat.message_created` (`session`, schema 1.1), which the gateway sends as
  `chat:session_update` right after the message, as it would have sent the separate event.
- `chat.read_state_changed` (ChatReadStateChanged): the user's or the agent's read position moved.
Consumed: `presence.*` from `gateway.presence` (see chat_svc.presence).

System messages are stored with sender_type 'system' and sender_id = the admin the message is about (the
newly assigned admin, the transfer target, the admin who closed). The contract's `sender_type` knows only
user | admin, so on the wire they are `sender_type: "admin"`, `message_type: "system"`. Their text is a code
and parameters (`system_code`, `system_params`, contracts.payloads.system_text) that each client renders in its
language; `message_content` is the server's rendering in `CHAT_SYSTEM_TEXT_LOCALE`.
"""

from __future__ import annotations

from contracts.events.payloads import (
    ChatMessageCreated,
    ChatReadStateChanged,
    ChatSessionAssigned,
    ChatSessionUpdated,
)
from contracts.events.registry import (
    CHAT_MESSAGE_CREATED,
    CHAT_READ_STATE_CHANGED,
    CHAT_SESSION_ASSIGNED,
    CHAT_SESSION_UPDATED,
)
from contracts.payloads import (
    AssignmentData,
    AssignmentReason,
    ChatMessageData,
    ReadData,
    SenderType,
    SessionData,
)
from pydantic import BaseModel
from servicekit.uow import UnitOfWork

from chat_svc import store
from chat_svc.rows import MessageRow, SessionRow


def session_data(row: SessionRow) -> SessionData:
    return SessionData(
        session_id=row.id, user_id=row.user_id, admin_id=row.admin_id, status=row.status, priority=row.priority,
        unread_count=row.admin_unread_count, last_message=row.last_message, created_at=row.created_at,
        updated_at=row.updated_at, close_reason=row.close_reason,
        user_last_read_message_id=row.user_last_read_message_id,
        admin_last_read_message_id=row.admin_last_read_message_id,
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

    def __init__(self, uow: UnitOfWork, *, session_in_messages: bool = True) -> None:
        self._uow = uow
        self._session_in_messages = session_in_messages
        self._changed: dict[int, None] = {}
        uow.before_commit(self.flush)

    async def _emit(self, event_type: str, payload: BaseModel, session_id: int) -> None:
        await self._uow.publish(event_type, payload, aggregate_id=session_id)

    async def message_created(self, message: MessageRow, session: SessionRow, *, final: bool = False) -> None:
        """`final`: `session` is the session's state at the end of this unit (the caller changes it no further):
        the event carries it, and unless something else changed the session in this unit it gets no
        `chat.session_updated` of its own."""
        fold = final and self._session_in_messages
        payload = ChatMessageCreated(message=message_data(message), user_id=session.user_id,
                                     admin_id=session.admin_id, session=session_data(session) if fold else None)
        await self._emit(CHAT_MESSAGE_CREATED, payload, session.id)
        if not fold:
            self.session_changed(session.id)

    async def session_assigned(self, session: SessionRow, reason: AssignmentReason) -> None:
        if session.admin_id is None or session.assigned_at is None:  # set together by store.set_assigned
            raise ValueError(f"session {session.id} is not assigned")
        assignment = AssignmentData(session_id=session.id, user_id=session.user_id, admin_id=session.admin_id,
                                    priority=session.priority, assigned_at=session.assigned_at, reason=reason)
        await self._emit(CHAT_SESSION_ASSIGNED, ChatSessionAssigned(assignment=assignment), session.id)
        self.session_changed(session.id)

    async def read_state_changed(self, session: SessionRow, reader: SenderType) -> None:
        """`reader`'s read position in `session` moved (the row holds the new one)."""
        reader_id: int | None
        if reader == "user":
            reader_id, up_to, at = session.user_id, session.user_last_read_message_id, session.user_read_at
        else:
            reader_id, up_to, at = session.admin_id, session.admin_last_read_message_id, session.admin_read_at
        if reader_id is None or up_to is None or at is None:
            raise ValueError(f"session {session.id}: no read position for {reader}")
        read = ReadData(session_id=session.id, reader_type=reader, reader_id=reader_id, last_read_message_id=up_to,
                        read_at=at)
        payload = ChatReadStateChanged(read=read, user_id=session.user_id, admin_id=session.admin_id)
        await self._emit(CHAT_READ_STATE_CHANGED, payload, session.id)

    def session_changed(self, session_id: int) -> None:
        self._changed[session_id] = None

    async def flush(self) -> None:
        for session_id in self._changed:
            row = await store.get_session(self._uow.db, session_id)
            if row is not None:
                await self._emit(CHAT_SESSION_UPDATED, ChatSessionUpdated(session=session_data(row)), session_id)
        self._changed.clear()
