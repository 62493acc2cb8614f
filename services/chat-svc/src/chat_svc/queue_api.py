"""REST of the queue as its users see it (`GET /my/sessions/{id}/queue`) and of customers' tiers (admins)."""

from __future__ import annotations

from typing import Annotated

from contracts.fields import Inbound
from contracts.payloads import QueueUpdateData
from fastapi import APIRouter, Depends, Path, Request
from pydantic import Field
from servicekit.errors import Forbidden, NotFound
from servicekit.http import CurrentAdmin, CurrentPrincipal
from servicekit.openapi import raises

from chat_svc.agents import SupervisorsOnly
from chat_svc.customers import CustomerData, Customers, Tier
from chat_svc.domain import MAX_DB_ID
from chat_svc.queue import NotWaiting, QueueBoard

router = APIRouter(prefix="/api/v4/customer-service", tags=["customer-service"])


async def _queue(request: Request) -> QueueBoard:
    return request.app.state.queue


async def _customers(request: Request) -> Customers:
    return request.app.state.customers


QueueDep = Annotated[QueueBoard, Depends(_queue)]
CustomersDep = Annotated[Customers, Depends(_customers)]
SessionId = Annotated[int, Path(gt=0, le=MAX_DB_ID)]
UserId = Annotated[int, Path(gt=0, le=MAX_DB_ID)]


class TierBody(Inbound):
    tier: Tier = Field(description="'vip': the customer's new sessions get CHAT_VIP_PRIORITY; 'standard': the default")


@router.get("/my/sessions/{session_id}/queue", response_model=QueueUpdateData, responses=raises(
    NotFound("session <id> not found"), Forbidden("forbidden: not your session"),
    NotWaiting("session <id> is active, not waiting in the queue")))
async def my_queue_place(session_id: SessionId, principal: CurrentPrincipal, queue: QueueDep) -> QueueUpdateData:
    """End users: where their waiting session stands now (position 1 = next) and the estimated wait in seconds
    (null: not enough recent history to measure it). Live changes arrive as `chat:queue_update`."""
    return await queue.place_of(principal, session_id)


@router.get("/customers/{user_id}", response_model=CustomerData)
async def get_customer(user_id: UserId, principal: CurrentAdmin, customers: CustomersDep) -> CustomerData:
    """Admins: a customer's tier (`standard` when never set)."""
    return await customers.get(principal, user_id)


@router.put("/customers/{user_id}", response_model=CustomerData, responses=raises(SupervisorsOnly))
async def set_customer_tier(
    user_id: UserId, body: TierBody, principal: CurrentAdmin, customers: CustomersDep
) -> CustomerData:
    """Supervisors: mark a customer VIP (or back to standard); applies to the sessions they open from now on."""
    return await customers.set_tier(principal, user_id, body.tier)
