"""The disconnect storm's floor (`./bench/run --cells 5 --floor`): a plain aiohttp websocket server on uvloop, with
no engine.io, no Socket.IO and no application, speaking just enough Engine.IO v4 / Socket.IO v5 for the bench's load
generator (the open packet, then "40" answered with a CONNECT). Its storm is what aiohttp and uvloop alone cost to
drop 2,000 websockets, whatever runs on top of them; compression off and the collector set as the gateway sets it.

Not a server anyone should run: nothing is authenticated, and it never pings.
"""

import argparse

import uvloop
from aiohttp import WSMsgType, web
from servicekit.gctune import tune_gc

OPEN = '0{"sid":"floor","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}'


def make_app() -> web.Application:
    sockets: set[web.WebSocketResponse] = set()

    async def socket_io(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(compress=False)
        await ws.prepare(request)
        sockets.add(ws)
        try:
            await ws.send_str(OPEN)
            async for msg in ws:
                if msg.type == WSMsgType.TEXT and msg.data.startswith("40"):
                    await ws.send_str('40{"sid":"floor"}')
        finally:
            sockets.discard(ws)
        return ws

    async def stats(request: web.Request) -> web.Response:
        return web.json_response({"sockets": len(sockets), "broker": True})

    app = web.Application()
    app.router.add_get("/socket.io/", socket_io)
    app.router.add_get("/bench/stats", stats)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args, _ = parser.parse_known_args()  # the bench passes the gateway's options too; they mean nothing here
    app = make_app()
    tune_gc()  # as the gateway sets its collector
    uvloop.install()
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
