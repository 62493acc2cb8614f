"""End users' sockets as the gateways tell it, so offline reach knows who has no socket online.

Fed by `presence.user_connections_changed` (a user's socket count on one gateway, on every change) and
`presence.gateway_heartbeat` (the gateway is alive; its `ttl_seconds`), both from `gateway.presence`. Counts
move forward in event time per (gateway, user): an older event never overwrites a newer count, whatever order
the queue delivers them in. A user is online when some gateway that has not expired counts a socket of theirs;
a gateway seen only through users' changes counts for `default_ttl` seconds after its last event.
"""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from notification_svc.db import reach_gateways as gateways
from notification_svc.db import user_presence as presence


async def gateway_seen(db: AsyncConnection, gateway_id: str, at: datetime, ttl_seconds: int | None,
                       default_ttl: int) -> None:
    """A heartbeat (`ttl_seconds` given) sets the gateway's ttl and expiry; another event of the gateway only
    proves it alive at `at` (the expiry may move later, never earlier). Older events change nothing."""
    ttl = ttl_seconds or default_ttl
    row = insert(gateways).values(gateway_id=gateway_id, last_seen_at=at, ttl_seconds=ttl,
                                  expires_at=at + timedelta(seconds=ttl))
    g = gateways.c
    changes: dict[str, Any] = {"last_seen_at": row.excluded.last_seen_at}
    if ttl_seconds is not None:
        changes |= {"ttl_seconds": row.excluded.ttl_seconds, "expires_at": row.excluded.expires_at}
    else:
        changes["expires_at"] = func.greatest(
            g.expires_at, row.excluded.last_seen_at + func.make_interval(0, 0, 0, 0, 0, 0, g.ttl_seconds))
    await db.execute(row.on_conflict_do_update(index_elements=[g.gateway_id], set_=changes,
                                               where=g.last_seen_at <= row.excluded.last_seen_at))


async def set_connections(db: AsyncConnection, gateway_id: str, user_id: int, connections: int,
                          at: datetime) -> None:
    """The user's socket count on the gateway, unless a newer event already set it."""
    row = insert(presence).values(gateway_id=gateway_id, user_id=user_id, connections=connections, updated_at=at)
    p = presence.c
    await db.execute(row.on_conflict_do_update(
        index_elements=[p.gateway_id, p.user_id],
        set_={"connections": row.excluded.connections, "updated_at": row.excluded.updated_at},
        where=p.updated_at <= row.excluded.updated_at,
    ))


async def is_online(db: AsyncConnection, user_id: int) -> bool:
    """Some live gateway counts a socket of this user."""
    p, g = presence.c, gateways.c
    live = exists().where(p.user_id == user_id, p.connections > 0, g.gateway_id == p.gateway_id,
                          g.expires_at > func.now())
    return bool((await db.execute(select(live))).scalar())


async def forget_expired_gateways(db: AsyncConnection, older_than: timedelta) -> int:
    """Drop gateways expired longer than `older_than` ago, with their users' rows (gateway ids are per process,
    so dead ones would pile up)."""
    expired = select(gateways.c.gateway_id).where(gateways.c.expires_at < func.now() - older_than)
    await db.execute(presence.delete().where(presence.c.gateway_id.in_(expired)))
    result = await db.execute(gateways.delete().where(gateways.c.expires_at < func.now() - older_than))
    return result.rowcount or 0
