"""Private notes on a session: admins write them for admins (context for a colleague, a transfer's hand-over).
They live in `chat.session_notes`, never in `chat.messages`, so no read of a session's messages (REST or
`chat:new_message`) can carry one; they are published as `chat.note_added`, which the gateway routes to admin
rooms and the supervisors only (`chat:note`). Any admin may read and write them (admins may read any session);
end users get 403."""

from __future__ import annotations

from typing import TYPE_CHECKING

from contracts.events.payloads import ChatNoteAdded
from contracts.events.registry import CHAT_NOTE_ADDED
from contracts.identity import Principal
from contracts.payloads.notes import NoteData
from sqlalchemy import select
from sqlalchemy.engine import Row

from chat_svc import store
from chat_svc.agents import check_is_admin
from chat_svc.db import session_notes
from chat_svc.domain import NotFound

if TYPE_CHECKING:
    from chat_svc.service import Chat, Tx


def _data(row: Row[tuple[object, ...]]) -> NoteData:
    return NoteData(note_id=row.id, session_id=row.session_id, author_id=row.author_id, content=row.content,
                    created_at=row.created_at, transfer_to=row.transfer_to)


async def write(tx: Tx, session_id: int, author_id: int, content: str, *, admin_id: int | None,
                transfer_to: int | None = None) -> NoteData:
    """Store a note and publish it in the caller's transaction; `admin_id`: the session's agent from now on."""
    row = (await tx.db.execute(session_notes.insert().values(
        session_id=session_id, author_id=author_id, content=content, transfer_to=transfer_to,
    ).returning(session_notes))).one()
    note = _data(row)
    await tx.uow.publish(CHAT_NOTE_ADDED, ChatNoteAdded(note=note, admin_id=admin_id), aggregate_id=session_id)
    return note


class Notes:
    def __init__(self, chat: Chat) -> None:
        self._chat = chat

    async def add(self, principal: Principal, session_id: int, content: str) -> NoteData:
        check_is_admin(principal)
        async with self._chat.transaction() as tx:
            row = await store.get_session(tx.db, session_id)
            if row is None:
                raise NotFound(f"session {session_id} not found")
            return await write(tx, session_id, principal.user_id, content, admin_id=row.admin_id)

    async def of_session(self, principal: Principal, session_id: int) -> list[NoteData]:
        """Oldest first."""
        check_is_admin(principal)
        async with self._chat.transaction() as tx:
            if await store.get_session(tx.db, session_id) is None:
                raise NotFound(f"session {session_id} not found")
            rows = (await tx.db.execute(select(session_notes).where(session_notes.c.session_id == session_id)
                                        .order_by(session_notes.c.id))).all()
        return [_data(r) for r in rows]
