"""REST of private notes (chat_svc.notes): admins only, under /api/v4/customer-service/sessions/{id}/notes.

- `GET /sessions/{id}/notes`: the session's notes, oldest first.
- `POST /sessions/{id}/notes {content}`: write one; the session's agent, the author and supervisors hear
  `chat:note`. The session's user never sees a note: not here (403), not among messages, not on a socket.
"""

from __future__ import annotations

from typing import Annotated

from contracts.fields import Inbound, MessageText
from contracts.payloads.notes import NoteData
from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field
from servicekit.errors import Forbidden, NotFound
from servicekit.http import CurrentAdmin
from servicekit.openapi import raises

from chat_svc.domain import MAX_DB_ID
from chat_svc.notes import Notes

router = APIRouter(prefix="/api/v4/customer-service/sessions", tags=["notes"])


async def _notes(request: Request) -> Notes:
    return request.app.state.notes


NotesDep = Annotated[Notes, Depends(_notes)]
SessionId = Annotated[int, Path(gt=0, le=MAX_DB_ID)]
_NO_SESSION = NotFound("session <id> not found")
_ADMINS_ONLY = Forbidden("forbidden: admins only")


class NoteList(BaseModel):
    items: list[NoteData] = Field(description="Oldest first")


class NoteBody(Inbound):
    content: MessageText = Field(description="Seen by admins only, never by the session's user")


@router.get("/{session_id}/notes", response_model=NoteList, responses=raises(_NO_SESSION, _ADMINS_ONLY))
async def list_notes(session_id: SessionId, principal: CurrentAdmin, notes: NotesDep) -> NoteList:
    return NoteList(items=await notes.of_session(principal, session_id))


@router.post("/{session_id}/notes", status_code=201, response_model=NoteData,
             responses=raises(_NO_SESSION, _ADMINS_ONLY))
async def add_note(session_id: SessionId, body: NoteBody, principal: CurrentAdmin, notes: NotesDep) -> NoteData:
    return await notes.add(principal, session_id, body.content)
