"""REST of satisfaction ratings (chat_svc.ratings) under /api/v4/customer-service.

- `PUT /my/sessions/{id}/rating {score, comment?}`: the session's user rates it once it is closed; again within
  CHAT_RATING_EDIT_SECONDS to change it (409 `rating_locked` after).
- `GET /my/sessions/{id}/rating`: the user's own rating (404 `not_rated`: none yet).
- `GET /sessions/{id}/rating`: admins, any session's rating.
"""

from __future__ import annotations

from typing import Annotated

from contracts.fields import Inbound
from fastapi import APIRouter, Depends, Path, Request
from pydantic import Field, StrictStr
from servicekit.errors import Forbidden, NotFound
from servicekit.http import CurrentAdmin, CurrentPrincipal
from servicekit.openapi import raises
from servicekit.ratelimit import per_user_rate_limit

from chat_svc.domain import MAX_DB_ID, InvalidInput
from chat_svc.ratings import NotRated, RatingData, RatingLocked, Ratings, Score, SessionNotClosed

router = APIRouter(prefix="/api/v4/customer-service", tags=["ratings"])


async def _ratings(request: Request) -> Ratings:
    return request.app.state.ratings


RatingsDep = Annotated[Ratings, Depends(_ratings)]
SessionId = Annotated[int, Path(gt=0, le=MAX_DB_ID)]
RATING_RATE_LIMIT = per_user_rate_limit("chat.ratings", "message_rate_limit")

_NOT_FOUND = NotFound("session <id> not found")
_NOT_YOURS = Forbidden("forbidden: not your session")
_NOT_RATED = NotRated("session <id> has no rating")


class RatingBody(Inbound):
    score: Score = Field(description="1 (very dissatisfied) to 5 (very satisfied)")
    comment: StrictStr | None = Field(None, description="Optional; blank is none; at most CHAT_RATING_COMMENT_MAX_CHARS")


@router.put("/my/sessions/{session_id}/rating", response_model=RatingData, dependencies=[RATING_RATE_LIMIT],
            responses=raises(_NOT_FOUND, _NOT_YOURS, SessionNotClosed("session <id> is active: rate it once it is "
                             "closed"), RatingLocked("the rating can no longer be changed"),
                             InvalidInput("comment", "at most <n> characters", where="body")))
async def rate_my_session(
    session_id: SessionId, body: RatingBody, principal: CurrentPrincipal, ratings: RatingsDep
) -> RatingData:
    """End users: rate a closed session of theirs; the same call changes it while `editable_until` is ahead."""
    return await ratings.rate(principal, session_id, body.score, body.comment)


@router.get("/my/sessions/{session_id}/rating", response_model=RatingData,
            responses=raises(_NOT_FOUND, _NOT_YOURS, _NOT_RATED))
async def my_rating(session_id: SessionId, principal: CurrentPrincipal, ratings: RatingsDep) -> RatingData:
    """End users: their rating of the session, to show it or offer a change."""
    return await ratings.get(principal, session_id)


@router.get("/sessions/{session_id}/rating", response_model=RatingData, responses=raises(_NOT_FOUND, _NOT_RATED))
async def session_rating(session_id: SessionId, principal: CurrentAdmin, ratings: RatingsDep) -> RatingData:
    """Admins: how the user rated the session."""
    return await ratings.get(principal, session_id)
