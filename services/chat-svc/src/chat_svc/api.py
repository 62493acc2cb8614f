"""REST routes of chat-svc under /api/v4/customer-service. Authorization is decided by the use cases
(chat_svc.service + chat_svc.domain); their DomainError becomes the HTTP error in servicekit.http."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from contracts.fields import Inbound, MessageText, Priority
from contracts.payloads import ChatMessageData, SessionData, SessionStatus, is_attachment_id
from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, Strict, ValidationInfo, field_validator
from pydantic.json_schema import SkipJsonSchema
from servicekit.errors import Conflict, Forbidden, Invalid, NotFound
from servicekit.http import CurrentAdmin, CurrentPrincipal
from servicekit.idempotency import IdempotencyKeyReused
from servicekit.openapi import raises
from servicekit.ratelimit import per_user_rate_limit

from chat_svc.domain import MAX_DB_ID, SessionClosed
from chat_svc.message_page import PageMessage
from chat_svc.service import Chat

router = APIRouter(prefix="/api/v4/customer-service", tags=["customer-service"])


async def _chat(request: Request) -> Chat:
    return request.app.state.chat


ChatDep = Annotated[Chat, Depends(_chat)]
SessionId = Annotated[int, Path(gt=0, le=MAX_DB_ID)]
MessageCursor = Annotated[int | None, Query(gt=0, le=MAX_DB_ID)]
PageNumber = Annotated[int, Query(ge=1, le=1_000_000)]
PageSize = Annotated[int, Query(ge=1, le=100)]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=200,
           description="Retrying with the same key returns the first answer instead of creating again"),
]


IMAGES_AS_UPLOADS = (
    "an image message's content is the attachment_id of a picture uploaded to this session "
    "(POST /sessions/{id}/attachments); image URLs are not accepted: every reader's browser would fetch them"
)


class _MessageBody(Inbound):
    message_type: Literal["text", "image"] = Field(
        "text", description="'image': content is the attachment_id of a picture uploaded to this session"
    )
    content: MessageText = Field(description="The text, or an image message's attachment_id")

    @field_validator("content")
    @classmethod
    def _images_are_uploads(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("message_type") == "image" and not is_attachment_id(value):
            raise ValueError(IMAGES_AS_UPLOADS)
        return value


class OpenSessionBody(_MessageBody):
    priority: Priority | SkipJsonSchema[None] = Field(
        None, deprecated=True,
        description="Ignored: a new session gets CHAT_DEFAULT_PRIORITY (a VIP customer's CHAT_VIP_PRIORITY); only supervisors "
                    "change it (PATCH /sessions/{id}). Still accepted (1-5) so older clients keep working.",
    )


class SessionChangeBody(Inbound):
    priority: Priority = Field(description="1-5, 5 first in the queue")


class SendMessageBody(_MessageBody):
    pass


class ReadBody(Inbound):
    last_read_message_id: Annotated[int, Strict(), Field(gt=0, le=MAX_DB_ID)] | SkipJsonSchema[None] = Field(
        None, description="Read up to this message (default: the session's newest); a position never moves back")


class TransferBody(Inbound):
    admin_id: Annotated[int, Strict(), Field(gt=0, le=MAX_DB_ID)]
    note: MessageText | SkipJsonSchema[None] = Field(
        None, description="For the receiving agent: stored as a private note on the session (admins only, "
                          "`chat:note`), never shown to the user")


class SessionPage(BaseModel):
    items: list[SessionData]
    total: int
    page: int
    page_size: int


class MessagePage(BaseModel):
    items: list[PageMessage] = Field(description="Oldest -> newest; image messages may carry `attachment`")
    has_more: bool = Field(description="More messages exist in the paging direction")
    next_before_id: int | None = Field(description="Pass as before_id for the older page (backward paging)")
    next_after_id: int | None = Field(description="Pass as after_id for the newer page (after_id paging)")


# What the use cases (chat_svc.service, chat_svc.domain) refuse, for each route's documented responses.
_NO_SESSION = NotFound("session <id> not found")
_NOT_YOURS = Forbidden("forbidden: not your session")
_CLOSED = SessionClosed("session <id> is closed")
_ADMIN_OFFLINE = Conflict("admin <id> is not online", code="admin_offline")
_NOT_AN_ATTACHMENT = Invalid("content: no picture <id> was uploaded to session <id>", code="unknown_attachment")
_AT_CAPACITY = Conflict("admin <id> already has <n> active sessions (capacity <n>)", code="admin_at_capacity")

_SESSION_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": SessionData, "description": "The message was added to the user's open session"},
    201: {"model": SessionData, "description": "A new session was opened with this first message"},
    **raises(Forbidden("forbidden: only end users open customer-service sessions"), IdempotencyKeyReused,
             _NOT_AN_ATTACHMENT),
}
# Per user, across every process (CHAT_SESSION_RATE_LIMIT, CHAT_MESSAGE_RATE_LIMIT).
SESSION_RATE_LIMIT = per_user_rate_limit("chat.sessions", "session_rate_limit")
MESSAGE_RATE_LIMIT = per_user_rate_limit("chat.messages", "message_rate_limit")


@router.post("/sessions", status_code=201, responses=_SESSION_RESPONSES, response_model=None,
             dependencies=[SESSION_RATE_LIMIT])
async def open_session(
    body: OpenSessionBody, principal: CurrentPrincipal, chat: ChatDep, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """End users: write to customer service (opens a session, or adds to the open one). The session's
    priority is the default; a `priority` in the body is ignored (admins set it: PATCH /sessions/{id})."""
    status, data = await chat.open_session(principal, content=body.content, message_type=body.message_type,
                                           idempotency_key=idempotency_key)
    return JSONResponse(data, status_code=status)


@router.get("/sessions", response_model=SessionPage)
async def list_sessions(
    principal: CurrentAdmin, chat: ChatDep, scope: Literal["mine", "waiting", "all"] = "mine",
    status: SessionStatus | None = None, page: PageNumber = 1, page_size: PageSize = 20,
) -> dict[str, Any]:
    """Admins: `mine` (assigned to me, newest activity first), `waiting` (the queue, in assignment order), `all`."""
    return await chat.list_sessions(principal, scope=scope, status=status, page=page, page_size=page_size)


@router.get("/my/sessions", response_model=SessionPage,
            responses=raises(Forbidden("forbidden: end users only (admins: /sessions)")))
async def my_sessions(
    principal: CurrentPrincipal, chat: ChatDep, status: SessionStatus | None = None, page: PageNumber = 1,
    page_size: PageSize = 20,
) -> dict[str, Any]:
    """End users: their own sessions, newest activity first."""
    return await chat.my_sessions(principal, status=status, page=page, page_size=page_size)


@router.get("/sessions/{session_id}", response_model=SessionData, responses=raises(_NO_SESSION, _NOT_YOURS))
async def get_session(session_id: SessionId, principal: CurrentPrincipal, chat: ChatDep) -> SessionData:
    return await chat.get_session(principal, session_id)


@router.patch("/sessions/{session_id}", response_model=SessionData, responses=raises(
    _NO_SESSION, _CLOSED, Forbidden("forbidden: only supervisors change a session's priority", code="supervisors_only")))
async def change_session(
    session_id: SessionId, body: SessionChangeBody, principal: CurrentAdmin, chat: ChatDep
) -> SessionData:
    """Supervisors: set an open session's queue priority (403 `supervisors_only` for agents, `forbidden` for end
    users; 409 `session_closed`)."""
    return await chat.set_priority(principal, session_id, body.priority)


@router.get("/sessions/{session_id}/messages", response_model=MessagePage,
            responses=raises(_NO_SESSION, _NOT_YOURS))
async def get_messages(
    session_id: SessionId, principal: CurrentPrincipal, chat: ChatDep, request: Request,
    before_id: MessageCursor = None, after_id: MessageCursor = None, limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> dict[str, Any]:
    """Cursor pages, oldest -> newest: without cursor the newest `limit`; `before_id` pages back,
    `after_id` pages forward (catching up). Image messages carry their picture's signed URLs (`attachment`)."""
    page = await chat.messages(principal, session_id, before_id=before_id, after_id=after_id, limit=limit)
    page["items"] = await request.app.state.attachments.links_for_page(session_id, page["items"])
    return page


@router.post("/sessions/{session_id}/messages", status_code=201, response_model=ChatMessageData,
             dependencies=[MESSAGE_RATE_LIMIT],
             responses=raises(_NO_SESSION, _NOT_YOURS, _CLOSED, IdempotencyKeyReused, _NOT_AN_ATTACHMENT))
async def send_message(
    session_id: SessionId, body: SendMessageBody, principal: CurrentPrincipal, chat: ChatDep,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """The session's user, or the admin it is assigned to."""
    return await chat.send_message(principal, session_id, body.content, body.message_type,
                                   idempotency_key=idempotency_key)


@router.post("/sessions/{session_id}/read", response_model=SessionData, responses=raises(_NO_SESSION))
async def mark_read(
    session_id: SessionId, principal: CurrentAdmin, chat: ChatDep, body: ReadBody | None = None
) -> SessionData:
    """The assigned admin has read the session up to `last_read_message_id` (default: its newest message):
    resets `unread_count`, and the user hears `chat:read` when the position moved."""
    return await chat.mark_read(principal, session_id, body.last_read_message_id if body else None)


@router.post("/my/sessions/{session_id}/read", response_model=SessionData, responses=raises(
    _NO_SESSION, _NOT_YOURS))
async def mark_read_by_user(
    session_id: SessionId, principal: CurrentPrincipal, chat: ChatDep, body: ReadBody | None = None
) -> SessionData:
    """End users: they have read their session up to `last_read_message_id` (default: its newest message); the
    agent hears `chat:read` when the position moved."""
    return await chat.mark_read(principal, session_id, body.last_read_message_id if body else None)


@router.post("/my/sessions/{session_id}/close", response_model=SessionData, responses=raises(
    _NO_SESSION, _NOT_YOURS, _CLOSED))
async def end_session(session_id: SessionId, principal: CurrentPrincipal, chat: ChatDep) -> SessionData:
    """End users: end their own session, waiting (it leaves the queue) or active (its agent is told);
    `close_reason: "user"`. 409 `session_closed` when it already ended."""
    return await chat.end_by_user(principal, session_id)


@router.post("/sessions/{session_id}/transfer", response_model=SessionData, responses=raises(
    _NO_SESSION, _CLOSED, _ADMIN_OFFLINE, _AT_CAPACITY, Conflict("session <id> is already assigned to you", code="same_admin")))
async def transfer(session_id: SessionId, body: TransferBody, principal: CurrentAdmin, chat: ChatDep) -> SessionData:
    """409 `admin_offline` / `admin_at_capacity` / `same_admin` when the target cannot take it."""
    return await chat.transfer(principal, session_id, body.admin_id, body.note)


@router.post("/sessions/{session_id}/claim", response_model=SessionData, responses=raises(
    _NO_SESSION, _CLOSED, _AT_CAPACITY, Conflict("session <id> is already assigned", code="not_waiting")))
async def claim(session_id: SessionId, principal: CurrentAdmin, chat: ChatDep) -> SessionData:
    """Take a waiting session (409 `not_waiting` / `admin_at_capacity`)."""
    return await chat.claim(principal, session_id)


@router.post("/sessions/{session_id}/close", response_model=SessionData, responses=raises(_NO_SESSION, _CLOSED))
async def close(session_id: SessionId, principal: CurrentAdmin, chat: ChatDep) -> SessionData:
    return await chat.close(principal, session_id)
