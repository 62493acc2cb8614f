"""End users' sockets as the gateways tell it, so offline reach knows who has no socket online.

Fed by `presence.user_connections_changed` (a user's socket count on one gateway, on every change) and
`presence.gateway_heartbeat` (the gateway is alive; its `ttl_seconds`), both from `gateway.presence`. Counts
move forward in event time per (gateway, user): an older event never overwrites a newer count, whatever order
the queue delivers them in. A user is online when some gateway that has not expired counts a socket of theirs;
a gateway seen only through users' changes counts for `default_ttl` seconds after its last event.
"""

from datetime import timedelta

from servicekit.gateway_presence import GatewayCounts
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncConnection

from notification_svc.db import reach_gateways, user_presence

PRESENCE = GatewayCounts(reach_gateways, user_presence, "user_id")
"""The statements on the two tables (servicekit.gateway_presence): `gateway_seen`, `set_connections`,
`is_online`."""


async def forget_expired_gateways(db: AsyncConnection, older_than: timedelta) -> int:
    """Drop gateways expired longer than `older_than` ago, with their users' rows."""
    return await PRESENCE.forget_expired(db, func.now() - older_than)
