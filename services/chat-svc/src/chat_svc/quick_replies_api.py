"""REST of quick replies under /api/v4/customer-service/quick-replies (rules and use cases:
chat_svc.quick_replies).

- `GET /quick-replies`: the team's and the caller's own (any admin).
- `POST /quick-replies {scope, title, content}`: `personal` for oneself; `team` supervisors only.
- `PUT /quick-replies/{id} {title, content}`, `DELETE /quick-replies/{id}`: the owner (personal) or a supervisor
  (team).
"""

from __future__ import annotations

from typing import Annotated

from contracts.fields import Inbound, MessageText
from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field
from servicekit.http import CurrentAdmin
from servicekit.openapi import raises

from chat_svc.agents import SupervisorsOnly
from chat_svc.domain import MAX_DB_ID
from chat_svc.quick_replies import (
    QuickReplies,
    QuickReplyData,
    QuickReplyDraft,
    QuickReplyNotFound,
    QuickReplyScope,
    Title,
    TooManyQuickReplies,
)

router = APIRouter(prefix="/api/v4/customer-service/quick-replies", tags=["quick-replies"])


async def _quick_replies(request: Request) -> QuickReplies:
    return request.app.state.quick_replies


QuickRepliesDep = Annotated[QuickReplies, Depends(_quick_replies)]
QuickReplyId = Annotated[int, Path(gt=0, le=MAX_DB_ID)]

_TEAM_ONLY = SupervisorsOnly("forbidden: only supervisors manage team quick replies")
_NOT_FOUND = QuickReplyNotFound("quick reply <id> not found")


class QuickReplyList(BaseModel):
    items: list[QuickReplyData] = Field(description="Team replies first, then the caller's own, each by title")


class QuickReplyBody(Inbound):
    title: Title
    content: MessageText


class NewQuickReplyBody(QuickReplyBody):
    scope: QuickReplyScope = Field("personal", description="personal: the caller's own; team: supervisors only")


@router.get("", response_model=QuickReplyList)
async def list_quick_replies(principal: CurrentAdmin, replies: QuickRepliesDep) -> QuickReplyList:
    return QuickReplyList(items=await replies.visible(principal))


@router.post("", status_code=201, response_model=QuickReplyData, responses=raises(
    _TEAM_ONLY, TooManyQuickReplies("at most <n> quick replies (CHAT_QUICK_REPLIES_MAX)")))
async def create_quick_reply(
    body: NewQuickReplyBody, principal: CurrentAdmin, replies: QuickRepliesDep
) -> QuickReplyData:
    return await replies.create(principal, body.scope, QuickReplyDraft(title=body.title, content=body.content))


@router.put("/{quick_reply_id}", response_model=QuickReplyData, responses=raises(_NOT_FOUND, _TEAM_ONLY))
async def change_quick_reply(
    quick_reply_id: QuickReplyId, body: QuickReplyBody, principal: CurrentAdmin, replies: QuickRepliesDep
) -> QuickReplyData:
    return await replies.change(principal, quick_reply_id, QuickReplyDraft(title=body.title, content=body.content))


@router.delete("/{quick_reply_id}", status_code=204, responses=raises(_NOT_FOUND, _TEAM_ONLY))
async def delete_quick_reply(quick_reply_id: QuickReplyId, principal: CurrentAdmin, replies: QuickRepliesDep) -> None:
    await replies.remove(principal, quick_reply_id)
