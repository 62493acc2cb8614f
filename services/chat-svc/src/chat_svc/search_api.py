"""REST of the agents' search (chat_svc.search): `GET /api/v4/customer-service/search`, admins only."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from servicekit.errors import Forbidden
from servicekit.http import CurrentAdmin
from servicekit.openapi import raises

from chat_svc.domain import MAX_DB_ID, InvalidInput
from chat_svc.search import Search, SearchPage, SearchQuery, parse_words

router = APIRouter(prefix="/api/v4/customer-service", tags=["customer-service"])


async def _search(request: Request) -> Search:
    return request.app.state.search


SearchDep = Annotated[Search, Depends(_search)]


@router.get("/search", response_model=SearchPage, responses=raises(
    Forbidden("forbidden: admins only"), InvalidInput("q", "give words to search for, or a user_id")))
async def search_messages(
    principal: CurrentAdmin, search: SearchDep,
    q: Annotated[str | None, Query(max_length=100, description="Words (white space between), all required; "
                                   "each matches anywhere in a message, Latin case-insensitively")] = None,
    user_id: Annotated[int | None, Query(gt=0, le=MAX_DB_ID, description="Only this user's sessions")] = None,
    date_from: Annotated[date | None, Query(description="First Beijing day (YYYY-MM-DD), inclusive")] = None,
    date_to: Annotated[date | None, Query(description="Last Beijing day (YYYY-MM-DD), inclusive")] = None,
    before: Annotated[int | None, Query(gt=0, le=MAX_DB_ID, description="A message id: only older hits")] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
) -> SearchPage:
    """Messages (not system lines) of every session, newest first, each with its session: open the session at
    `message.message_id`. Needs `q` or `user_id` (422)."""
    query = SearchQuery(words=parse_words(q), user_id=user_id, date_from=date_from, date_to=date_to, before=before,
                        limit=limit)
    return await search.messages(principal, query)
