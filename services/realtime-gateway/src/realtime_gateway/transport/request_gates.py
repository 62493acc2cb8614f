"""The gateway's HTTP request checks as ONE aiohttp middleware: a drain's 503, the Engine.IO request rules, the
per-address connection cap, each a `Gate` (`gate(request) -> response to send instead, or None`) run in order.

As three middlewares they were three coroutine frames (and aiohttp's per-request `partial` + `update_wrapper`
for each) wrapped around the request handler, and a WebSocket's handler runs for the socket's whole life: those
frames were kept per open socket (~1 KB at 20,000 sockets) and rebuilt per handshake. A gate returns before the
handler is called, so nothing of it is kept while the socket lives.
"""

from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web
from aiohttp.typedefs import Middleware

Gate = Callable[[web.Request], Awaitable[web.StreamResponse | None]]
"""`await gate(request)`: the response that answers the request instead of its handler, or None to go on."""
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def gated(gates: Sequence[Gate]) -> Middleware:
    """One aiohttp middleware running `gates` in order before the handler; the first answer wins."""
    gates = tuple(gates)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        for gate in gates:
            answer = await gate(request)
            if answer is not None:
                return answer
        return await handler(request)

    return middleware
