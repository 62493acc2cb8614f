"""Connection caps: Engine.IO connections per client address, Socket.IO sockets per account.

Per address, every Engine.IO connection counts from its handshake to its end: polling and websocket alike,
and before (or without) a Socket.IO CONNECT, so unauthenticated connections cannot pile up either. The address
is the client's (`servicekit.forwarded.client_address`: `X-Forwarded-For` only from `GATEWAY_FORWARDED_ALLOW_IPS`,
the edge). A handshake over the cap gets 429 `too_many_connections` with `Retry-After` from `middleware`; the
count is also enforced inside Engine.IO's connect event (handshakes racing past the middleware get Engine.IO's
own refusal, 401 with the same message).

Per account, `too_many_sockets` is decided at the Socket.IO CONNECT (`user_refusal`), where the account is
known: the CONNECT is answered with a `connect_error` whose message says "too many connections".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import socketio
from aiohttp import web
from servicekit.forwarded import TrustedProxies, client_address
from socketio.exceptions import ConnectionRefusedError

TOO_MANY_CONNECTIONS = "too_many_connections"
ADDRESS_REFUSAL = "too many connections from this address"
RETRY_AFTER_SECONDS = 5


def request_address(request: web.Request, trusted: TrustedProxies) -> str:
    """The client's address of an aiohttp request (the peer unless the peer is a trusted proxy)."""
    return client_address(request.remote, request.headers.get("X-Forwarded-For"), trusted) or "unknown"


class AddressConnections:
    """Engine.IO connections per client address on this gateway, at most `limit` each."""

    def __init__(
        self, limit: int, trusted: TrustedProxies, on_refused: Callable[[], None] = lambda: None
    ) -> None:
        self.limit = limit
        self.trusted = trusted
        self._on_refused = on_refused  # a metric; refusals are not logged one by one (a flood would flood the log)
        self._address_of: dict[str, str] = {}  # eio sid -> address
        self._counts: dict[str, int] = {}

    def count(self, address: str) -> int:
        return self._counts.get(address, 0)

    def admit(self, eio_sid: str, address: str) -> bool:
        """Count a new connection, unless its address is at the cap."""
        if self._counts.get(address, 0) >= self.limit:
            return False
        self._address_of[eio_sid] = address
        self._counts[address] = self._counts.get(address, 0) + 1
        return True

    def release(self, eio_sid: str) -> None:
        """The connection ended (idempotent)."""
        address = self._address_of.pop(eio_sid, None)
        if address is None:
            return
        remaining = self._counts.get(address, 0) - 1
        if remaining > 0:
            self._counts[address] = remaining
        else:
            self._counts.pop(address, None)

    def install(self, sio: socketio.AsyncServer) -> None:
        """Wrap the Engine.IO connect / disconnect handlers python-socketio registered (`eio.handlers`), so the
        count covers every Engine.IO connection whatever happens at the Socket.IO level."""
        eio = sio.eio
        connect, disconnect = eio.handlers["connect"], eio.handlers["disconnect"]

        async def counted_connect(eio_sid: str, environ: dict[str, Any]) -> Any:
            request = environ.get("aiohttp.request")
            # a handshake served without aiohttp (transport/fast_handshake.py) brings its address, resolved alike
            address = (request_address(request, self.trusted) if request is not None
                       else str(environ.get("REMOTE_ADDR", "unknown")))
            if not self.admit(eio_sid, address):
                self._on_refused()
                return ADDRESS_REFUSAL  # Engine.IO answers 401 {"message": ...}
            try:
                result = await connect(eio_sid, environ)
            except BaseException:
                self.release(eio_sid)
                raise
            if result is not None and result is not True:
                self.release(eio_sid)
            return result

        async def counted_disconnect(eio_sid: str, *args: Any) -> Any:
            self.release(eio_sid)
            return await disconnect(eio_sid, *args)

        eio.on("connect", counted_connect)
        eio.on("disconnect", counted_disconnect)

    async def gate(self, request: web.Request) -> web.StreamResponse | None:
        """A new Engine.IO handshake (a `/socket.io` request without `sid`) from an address at its cap: 429
        (`transport/request_gates.py`)."""
        if request.path.startswith("/socket.io") and "sid" not in request.query:
            address = request_address(request, self.trusted)
            if self.count(address) >= self.limit:
                self._on_refused()
                return web.json_response(
                    {"error": {"code": TOO_MANY_CONNECTIONS, "message": ADDRESS_REFUSAL,
                               "details": {"limit": self.limit}}},
                    status=429, headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
                )
        return None


def user_refusal(open_sockets: int, limit: int) -> ConnectionRefusedError | None:
    """The `connect_error` for an account that already has `limit` sockets here, else None."""
    if open_sockets < limit:
        return None
    return ConnectionRefusedError(
        f"too many connections: at most {limit} sockets per account",
        {"code": TOO_MANY_CONNECTIONS, "limit": limit},
    )
