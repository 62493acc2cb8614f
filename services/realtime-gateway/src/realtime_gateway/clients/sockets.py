"""The Socket.IO handlers: handshake (auth + rooms + presence), disconnect, and ONE dispatcher for every
client event (rate limit, unknown events, payload errors and crashes all become error acks here; the socket
always stays connected)."""

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import socketio
from contracts.identity import Principal
from contracts.socketio.ack import FORBIDDEN, INTERNAL, RATE_LIMITED, UNAUTHORIZED, ack_error, ack_ok
from contracts.socketio.client import RegisterUserPayload
from contracts.socketio.events import LEGACY_EVENT_REGISTER_USER
from servicekit.jwt import JwksVerifier
from socketio.exceptions import ConnectionRefusedError

from realtime_gateway.clients.admission import user_refusal
from realtime_gateway.clients.auth import authenticate, refusal_code
from realtime_gateway.clients.connections import Connections
from realtime_gateway.clients.ratelimit import PerSocketLimiter, PerUserLimiter
from realtime_gateway.clients.rooms import rooms_for
from realtime_gateway.clients.validation import InvalidPayload, parse_payload, single_argument
from realtime_gateway.ops.drain import InFlight
from realtime_gateway.ops.metrics import Metrics
from realtime_gateway.transport.recovery import Accepted, Recovery

log = logging.getLogger(__name__)

UNKNOWN_EVENT = "unknown_event"

EventHandler = Callable[[str, Principal, Any], Awaitable[dict[str, Any]]]
"""`handler(sid, principal, data) -> ack`; raise `validation.InvalidPayload` for a bad payload."""


async def register_user(sid: str, principal: Principal, data: Any) -> dict[str, Any]:
    """Legacy `register_user {user_id, user_type}`: rooms already come from the token; this only checks that
    the client agrees with it (a mismatch joins nothing)."""
    claimed = parse_payload(LEGACY_EVENT_REGISTER_USER, RegisterUserPayload, data)
    if (claimed.user_id, claimed.user_type) != (principal.user_id, principal.user_type):
        return ack_error(FORBIDDEN, "register_user does not match the authenticated token")
    return ack_ok({"user_id": principal.user_id, "user_type": principal.user_type})


class SocketHandlers:
    def __init__(
        self,
        sio: socketio.AsyncServer,
        verifier: JwksVerifier,
        connections: Connections,
        limiter: PerSocketLimiter,
        handlers: dict[str, EventHandler],
        metrics: Metrics,
        admin_changed: Callable[[int, int], None],
        on_disconnect: list[Callable[[str], None]],
        recovery: Recovery,
        in_flight: InFlight,
        on_connected: Callable[[str, Any], None] | None = None,
        user_limiter: PerUserLimiter | None = None,
        max_sockets_per_user: int | None = None,
        user_changed: Callable[[int, int], None] | None = None,
        after_accept: Callable[[str, Principal, Accepted], Accepted] | None = None,
    ) -> None:
        self._sio = sio
        self._verifier = verifier
        self._connections = connections
        self._limiter = limiter
        self._handlers = {LEGACY_EVENT_REGISTER_USER: register_user, **handlers}
        self._metrics = metrics
        self._admin_changed = admin_changed
        self._on_disconnect = [limiter.forget, *on_disconnect]
        self._recovery = recovery
        self._in_flight = in_flight
        self._on_connected = on_connected  # (sid, auth) once accepted: clients/token_expiry.py watches its `exp`
        self._user_limiter = user_limiter
        self._max_sockets_per_user = max_sockets_per_user
        self._user_changed = user_changed  # end users' socket counts (presence.user_connections_changed)
        self._after_accept = after_accept  # ops/current_status.py: an admin connecting is told what is degraded

    def register(self) -> None:
        self._sio.on("connect", self.connect)
        self._sio.on("disconnect", self.disconnect)
        self._sio.on("*", self.dispatch)

    async def connect(self, sid: str, environ: dict[str, Any], auth: Any) -> Accepted:
        """Token -> principal -> rooms; a reconnect naming its session (`auth.pid`, `auth.offset`) is recovered
        (see `transport/recovery.py`). The returned `pid` goes into the CONNECT reply."""
        try:
            principal = await authenticate(self._verifier, auth)
        except ConnectionRefusedError as exc:
            self._metrics.refused.labels(refusal_code(exc)).inc()
            raise
        if self._max_sockets_per_user is not None:
            too_many = user_refusal(self._connections.sockets_of(principal), self._max_sockets_per_user)
            if too_many is not None:
                self._metrics.refused.labels(refusal_code(too_many)).inc()
                raise too_many
        count = self._connections.add(sid, principal)
        if principal.is_admin:
            self._admin_changed(principal.user_id, count)
        elif self._user_changed is not None:
            self._user_changed(principal.user_id, count)
        try:
            accepted = await self._recovery.accept(sid, principal, rooms_for(principal), auth)
        except BaseException:
            await self.disconnect(sid)
            raise
        if self._on_connected is not None:
            self._on_connected(sid, auth)
        if self._after_accept is not None:
            accepted = self._after_accept(sid, principal, accepted)
        return accepted

    async def disconnect(self, sid: str, reason: Any = None) -> None:
        for forget in self._on_disconnect:
            forget(sid)
        gone = self._connections.remove(sid)
        if gone is not None and gone[0].is_admin:
            self._admin_changed(gone[0].user_id, gone[1])
        elif gone is not None and self._user_changed is not None:
            self._user_changed(gone[0].user_id, gone[1])
        if gone is not None and gone[1] == 0 and self._user_limiter is not None:
            self._user_limiter.last_socket_left(gone[0].user_id)

    async def dispatch(self, event: str, sid: str, *args: Any) -> dict[str, Any]:
        """Every client event. The return value is the ack (sent only when the client asked for one)."""
        principal = self._connections.principal(sid)
        if principal is None:
            return ack_error(UNAUTHORIZED, "not connected")
        if not self._limiter.allow(sid):
            return ack_error(RATE_LIMITED, "too many events; slow down")
        if self._user_limiter is not None and not self._user_limiter.allow(principal.user_id):
            return ack_error(RATE_LIMITED, "too many events from this account; slow down")
        handler = self._handlers.get(event)
        if handler is None:
            return ack_error(UNKNOWN_EVENT, f"unknown event {str(event)[:100]!r}")
        self._in_flight.begin(sid)
        try:
            return await handler(sid, principal, single_argument(event, args))
        except InvalidPayload as exc:
            return exc.ack()
        except Exception:
            log.exception("handling %s from %s (user %s) failed", event, sid, principal.user_id)
            return ack_error(INTERNAL, "internal error")
        finally:
            self._in_flight.end(sid)
