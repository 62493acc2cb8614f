"""Sockets per gateway, as the gateways tell it, kept by a service that decides on it (chat-svc: which admins are
online for assignment; notification-svc: which users have no socket for offline reach).

Fed by `presence.*` events from `gateway.presence`: a member's socket count on one gateway on every change, and
the gateway's heartbeat (it is alive for `ttl_seconds`). Each service keeps two tables in its own schema: the
gateways (`gateway_id`, `last_seen_at`, `ttl_seconds`, `expires_at`) and the counts (`gateway_id`, a member id
column, `connections`, `updated_at`). Everything moves forward in event time: an older event never overwrites a
newer count or expiry, whatever order the queue delivers them in. A member is online when some gateway that has not
expired counts a socket of theirs; a gateway seen only through members' changes counts for the service's default
ttl after its last event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Table, exists, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection


class GatewayCounts:
    """The statements on one service's two tables; `member` names the counts table's member id column."""

    def __init__(self, gateways: Table, counts: Table, member: str) -> None:
        self.gateways = gateways
        self.counts = counts
        self.member = member

    async def gateway_seen(self, db: AsyncConnection, gateway_id: str, at: datetime, ttl_seconds: int | None,
                           default_ttl: int) -> None:
        """A heartbeat (`ttl_seconds` given) sets the gateway's ttl and expiry; any other event from the gateway
        only proves it alive at `at`, so it may push the expiry later, never earlier. Older events change
        nothing."""
        ttl = ttl_seconds or default_ttl
        row = insert(self.gateways).values(gateway_id=gateway_id, last_seen_at=at, ttl_seconds=ttl,
                                           expires_at=at + timedelta(seconds=ttl))
        g = self.gateways.c
        changes: dict[str, Any] = {"last_seen_at": row.excluded.last_seen_at}
        if ttl_seconds is not None:
            changes |= {"ttl_seconds": row.excluded.ttl_seconds, "expires_at": row.excluded.expires_at}
        else:
            changes["expires_at"] = func.greatest(
                g.expires_at, row.excluded.last_seen_at + func.make_interval(0, 0, 0, 0, 0, 0, g.ttl_seconds))
        await db.execute(row.on_conflict_do_update(index_elements=[g.gateway_id], set_=changes,
                                                   where=g.last_seen_at <= row.excluded.last_seen_at))

    async def set_connections(self, db: AsyncConnection, gateway_id: str, counts: Mapping[int, int],
                              at: datetime) -> None:
        """The members' socket counts on the gateway, each unless a newer event already set it."""
        if not counts:
            return
        row = insert(self.counts).values([
            {"gateway_id": gateway_id, self.member: member, "connections": n, "updated_at": at}
            for member, n in counts.items()
        ])
        c = self.counts.c
        await db.execute(row.on_conflict_do_update(
            index_elements=[c.gateway_id, c[self.member]],
            set_={"connections": row.excluded.connections, "updated_at": row.excluded.updated_at},
            where=c.updated_at <= row.excluded.updated_at,
        ))

    async def forget_not_in(self, db: AsyncConnection, gateway_id: str, keep: Sequence[int], at: datetime) -> None:
        """A heartbeat that lists the gateway's whole map: members it no longer lists have no socket there (unless
        a newer event says otherwise)."""
        c = self.counts.c
        where = [c.gateway_id == gateway_id, c.updated_at <= at]
        if keep:
            where.append(c[self.member].not_in(list(keep)))
        await db.execute(self.counts.delete().where(*where))

    async def forget_expired(self, db: AsyncConnection, until: datetime | ColumnElement[datetime]) -> int:
        """Drop the gateways expired by `until`, with their counts (gateway ids are per process, so dead ones would
        pile up); how many gateways."""
        g = self.gateways.c
        expired = select(g.gateway_id).where(g.expires_at <= until)
        await db.execute(self.counts.delete().where(self.counts.c.gateway_id.in_(expired)))
        result = await db.execute(self.gateways.delete().where(g.expires_at <= until))
        return result.rowcount or 0

    async def is_online(self, db: AsyncConnection, member_id: int) -> bool:
        """Some gateway that has not expired counts a socket of this member."""
        c, g = self.counts.c, self.gateways.c
        live = exists().where(c[self.member] == member_id, c.connections > 0, g.gateway_id == c.gateway_id,
                              g.expires_at > func.now())
        return bool((await db.execute(select(live))).scalar())
