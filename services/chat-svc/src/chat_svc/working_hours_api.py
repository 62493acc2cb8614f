"""REST routes of the working hours and greeting under /api/v4/customer-service/working-hours
(models and rules: chat_svc.working_hours; storage: chat_svc.working_hours_store).

- `GET /working-hours`: any admin; the configuration, the greeting in force, `open_now` and `next_open_at`.
- `PUT /working-hours`: supervisors (403 `supervisors_only`); the whole configuration at once. An invalid one is
  refused with 422 and the field at fault (an interval whose end is not after its start, overlapping intervals,
  a week without open time, a date given twice).
Nothing configured: always open, default greeting.
"""

from __future__ import annotations

from typing import Annotated

from contracts.identity import Principal
from fastapi import APIRouter, Depends, Request
from servicekit.http import CurrentAdmin
from servicekit.openapi import raises

from chat_svc import agents, agents_store, working_hours, working_hours_store
from chat_svc.agents import SupervisorsOnly
from chat_svc.service import Chat
from chat_svc.working_hours import WorkingHoursBody, WorkingHoursData

router = APIRouter(prefix="/api/v4/customer-service/working-hours", tags=["working-hours"])


async def _chat(request: Request) -> Chat:
    return request.app.state.chat


ChatDep = Annotated[Chat, Depends(_chat)]


async def _read(chat: Chat, principal: Principal) -> WorkingHoursData:
    async with chat.transaction() as tx:
        now = chat.clock()
        await agents_store.note_role(tx.db, principal.user_id, principal.role or "agent", now)
        stored = await working_hours_store.load(tx.db)
        return working_hours.data(stored.body, now, updated_by=stored.updated_by, updated_at=stored.updated_at)


@router.get("", response_model=WorkingHoursData)
async def get_working_hours(principal: CurrentAdmin, chat: ChatDep) -> WorkingHoursData:
    return await _read(chat, principal)


@router.put("", response_model=WorkingHoursData, responses=raises(
    SupervisorsOnly("forbidden: only supervisors set the working hours")))
async def put_working_hours(body: WorkingHoursBody, principal: CurrentAdmin, chat: ChatDep) -> WorkingHoursData:
    """Replaces the whole configuration; `weekly: null` and no exception: always open."""
    agents.check_is_supervisor(principal, "set the working hours")
    async with chat.transaction() as tx:
        await working_hours_store.save(tx.db, body, by=principal.user_id, at=chat.clock())
    return await _read(chat, principal)
