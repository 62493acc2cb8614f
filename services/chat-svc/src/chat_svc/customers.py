"""Customers' tiers: a VIP's new sessions go ahead in the queue (CHAT_VIP_PRIORITY instead of
CHAT_DEFAULT_PRIORITY). The tier is the platform's, kept in `chat.customers`: supervisors set it, any admin reads
it, never the user."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from contracts.fields import Id
from contracts.identity import Principal
from contracts.time import BeijingDatetime
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from chat_svc.agents import check_is_supervisor
from chat_svc.db import customers
from chat_svc.domain import Forbidden

if TYPE_CHECKING:
    from chat_svc.service import Chat

Tier = Literal["standard", "vip"]


class CustomerData(BaseModel):
    user_id: Id
    tier: Tier
    updated_at: BeijingDatetime | None


async def tier_of(db: AsyncConnection, user_id: int) -> Tier:
    tier = (await db.execute(select(customers.c.tier).where(customers.c.user_id == user_id))).scalar_one_or_none()
    return "vip" if tier == "vip" else "standard"


async def priority_for(db: AsyncConnection, user_id: int, *, default_priority: int, vip_priority: int) -> int:
    """The queue priority of a new session of `user_id`: from their tier, never from what they send."""
    return vip_priority if await tier_of(db, user_id) == "vip" else default_priority


def check_can_read_tier(principal: Principal) -> None:
    if not principal.is_admin:
        raise Forbidden("forbidden: admins only")


def check_can_set_tier(principal: Principal) -> None:
    """Supervisors only: the same rule as changing a session's priority (403 `supervisors_only`)."""
    check_is_supervisor(principal, "set a customer's tier")


class Customers:
    def __init__(self, chat: Chat) -> None:
        self._chat = chat

    async def get(self, principal: Principal, user_id: int) -> CustomerData:
        check_can_read_tier(principal)
        async with self._chat.transaction() as tx:
            row = (await tx.db.execute(select(customers).where(customers.c.user_id == user_id))).first()
        if row is None:
            return CustomerData(user_id=user_id, tier="standard", updated_at=None)
        return CustomerData(user_id=user_id, tier=row.tier, updated_at=row.updated_at)

    async def set_tier(self, principal: Principal, user_id: int, tier: Tier) -> CustomerData:
        """Applies to the sessions the user opens from now on; an open session keeps its priority (admins
        move it with PATCH /sessions/{id})."""
        check_can_set_tier(principal)
        async with self._chat.transaction() as tx:
            statement = insert(customers).values(user_id=user_id, tier=tier, updated_by=principal.user_id)
            row = (await tx.db.execute(statement.on_conflict_do_update(
                index_elements=[customers.c.user_id],
                set_={"tier": tier, "updated_by": principal.user_id, "updated_at": func.now()},
            ).returning(customers))).one()
        return CustomerData(user_id=user_id, tier=row.tier, updated_at=row.updated_at)
