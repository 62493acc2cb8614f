"""What a connection keeps of the HTTP request that opened it, once Engine.IO has accepted it: its client address.

engine.io builds a WSGI-like environ per request (`translate_request`: every header as `HTTP_*`, the aiohttp
`Request` under `aiohttp.request`, its body reader under `wsgi.input`) and python-socketio keeps the handshake's
environ for the connection's whole life (`AsyncServer.environ[eio_sid]`). For a polling session that kept the
finished handshake request (its headers, its payload reader, its transport) alive until the session ended; for a
WebSocket, the environ's ~25 keys and header strings (~1.6 KB of the ~25 KB a socket held at 20,000 sockets).

Nothing of ours reads a header after the handshake: the Socket.IO connect handler takes the token from the CONNECT
packet, and the one later reader, `ProtocolGuard` (its per-address log limit), needs only the client's address.
So at the Engine.IO connect the stored environ becomes `{"REMOTE_ADDR": <client address>}` (the address as the
connection caps see it: `X-Forwarded-For` only from a trusted proxy), and a WebSocket's own request environ is
emptied once the upgrade is done (engine.io reads nothing from it after that).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

REMOTE_ADDR = "REMOTE_ADDR"


def connection_environ(environ: dict[str, Any], address_of: Callable[[dict[str, Any]], str]) -> dict[str, Any]:
    """The environ a connection keeps after its Engine.IO handshake: the client's address only."""
    return {REMOTE_ADDR: address_of(environ)}


def release_request_environ(environ: dict[str, Any]) -> None:
    """Empty a request's environ once nothing reads it any more (a WebSocket after its upgrade): the dict may
    still be referenced by engine.io's frames waiting on the connection, its contents are not."""
    environ.clear()
