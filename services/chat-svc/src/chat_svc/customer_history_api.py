"""REST of the customer panel (chat_svc.customer_history), admins only:

- `GET /customers/{user_id}/summary`: tier, first contact, number of sessions.
- `GET /customers/{user_id}/sessions?before=&limit=`: their sessions with their newest messages, newest first,
  in cursor pages (`before`: a session id, e.g. the open one: only earlier sessions).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from servicekit.errors import Forbidden
from servicekit.http import CurrentAdmin
from servicekit.openapi import raises

from chat_svc.customer_history import CustomerHistory, CustomerSummary, PastSessionPage
from chat_svc.domain import MAX_DB_ID

router = APIRouter(prefix="/api/v4/customer-service/customers", tags=["customer-service"])


async def _history(request: Request) -> CustomerHistory:
    return request.app.state.customer_history


HistoryDep = Annotated[CustomerHistory, Depends(_history)]
UserId = Annotated[int, Path(gt=0, le=MAX_DB_ID)]
_ADMINS_ONLY = Forbidden("forbidden: admins only")


@router.get("/{user_id}/summary", response_model=CustomerSummary, responses=raises(_ADMINS_ONLY))
async def customer_summary(user_id: UserId, principal: CurrentAdmin, history: HistoryDep) -> CustomerSummary:
    return await history.summary(principal, user_id)


@router.get("/{user_id}/sessions", response_model=PastSessionPage, responses=raises(_ADMINS_ONLY))
async def customer_sessions(
    user_id: UserId, principal: CurrentAdmin, history: HistoryDep,
    before: Annotated[int | None, Query(gt=0, le=MAX_DB_ID, description="A session id: only older sessions")] = None,
    limit: Annotated[int, Query(ge=1, le=20)] = 5,
) -> PastSessionPage:
    return await history.sessions(principal, user_id, before=before, limit=limit)
