"""The real gateway (`realtime_gateway.create_app`, run the way `python -m realtime_gateway` runs it) in bench
mode: tokens are verified against the bench's throwaway JWKS file (`benchkeys.py`), and the app gets the
bench control routes of the Node twin (bench/node/server.js):

  POST /bench/broadcast?count=K&rate=R&room=admins   K broadcasts of `notification:broadcast` through the
       gateway's own Emitter (the path delivery/consumer.py uses), as fast as the loop allows (rate=0, yielding
       to the loop after each) or at R per second; answers at once; GET /bench/done tells when the last one went
       out.
  GET  /bench/stats                                  {sockets (Engine.IO sockets still open), broker, fanout}

BENCH_PACKET_JSON=stdlib swaps the gateway's orjson packet codec for the json module (`run.py --variants`);
GATEWAY_EVENT_LOOP=asyncio (a gateway setting) runs it on asyncio's loop instead of uvloop.

Nothing here is part of the gateway: the routes exist only in this bench process.
"""

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from aiohttp import web

sys.path.insert(0, str(Path(__file__).parent))
from benchkeys import verifier_from
from realtime_gateway.main import GATEWAY_KEY, create_app
from realtime_gateway.settings import Settings

try:
    from realtime_gateway.delivery.emitter import Emitter
except ModuleNotFoundError:  # an older checkout's flat layout (`run.py --gateway-src` for a "before" run)
    from realtime_gateway.emitter import Emitter  # type: ignore[no-redef]

EVENT = "notification:broadcast"


def now_ms() -> float:
    return time.time() * 1000


def bench_payload(seq: int, sent_at: float) -> dict[str, Any]:
    """The same object as bench/node/payload.js (key order included)."""
    return {
        "seq": seq, "sent_at": sent_at, "notification_id": 1_000_000 + seq, "type": "system",
        "title": "Scheduled maintenance tonight",
        "content": "The platform will be read-only from 02:00 to 02:30 (Beijing time) while the database is upgraded.",
        "created_at": "2024-06-01T10:00:00.000+08:00", "is_read": False,
    }


def add_bench_routes(app: web.Application) -> None:
    gateway = app[GATEWAY_KEY]
    emitter: Emitter = getattr(gateway, "emitter", None) or Emitter(gateway.sio, gateway.metrics)
    job: dict[str, Any] = {"done": True, "t_start": 0, "t_end": 0}
    tasks: set[asyncio.Task[None]] = set()

    async def run(count: int, rate: float, room: str) -> None:
        start = job["t_start"]
        for seq in range(count):
            if rate:
                delay = (start + seq * 1000 / rate - now_ms()) / 1000
                if delay > 0:
                    await asyncio.sleep(delay)
            await emitter.emit(EVENT, bench_payload(seq, now_ms()), [room])
            if not rate:
                await asyncio.sleep(0)
        job.update(done=True, t_end=now_ms())

    async def broadcast(request: web.Request) -> web.Response:
        q = request.query
        job.update(done=False, t_start=now_ms(), t_end=0)
        task = asyncio.create_task(run(int(q.get("count", 1)), float(q.get("rate", 0)), q.get("room", "admins")))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return web.json_response({"t_start": job["t_start"]})

    async def done(request: web.Request) -> web.Response:
        return web.json_response(job)

    async def stats(request: web.Request) -> web.Response:
        out = {"sockets": len(gateway.sio.eio.sockets), "broker": gateway.broker.connected}
        fanout = getattr(gateway.sio.manager, "stats", None)  # FanOutStats: deliveries written direct vs queued
        if fanout is not None:
            out["fanout"] = {"direct": fanout.direct, "queued": fanout.queued}
        return web.json_response(out)

    app.router.add_post("/bench/broadcast", broadcast)
    app.router.add_get("/bench/done", done)
    app.router.add_get("/bench/stats", stats)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--jwks", required=True)
    parser.add_argument("--amqp", required=True)
    args = parser.parse_args()
    settings = Settings(
        host="127.0.0.1", port=args.port, amqp_url=args.amqp, log_level="WARNING",
        gateway_id=f"gw-bench-{args.port}",
        # The load generator opens thousands of sockets from one address, as few accounts: the caps that protect a
        # deployment from one client (issue 14) would refuse the bench itself. Its Node twin has none either.
        max_connections_per_address=1_000_000, max_sockets_per_user=1_000_000,
        user_rate_limit_per_second=1e9, user_rate_limit_burst=1_000_000_000,
    )
    app = create_app(settings, jwt_verifier=verifier_from(args.jwks))
    if os.environ.get("BENCH_PACKET_JSON") == "stdlib":  # `./bench/run --variants`: what orjson is worth
        import engineio.packet
        import socketio.packet

        socketio.packet.Packet.json = engineio.packet.Packet.json = json
    add_bench_routes(app)

    async def serve() -> None:
        try:  # the runner options `python -m realtime_gateway` uses (an older gateway has none)
            from realtime_gateway.main import runner_options
        except ImportError:
            options: dict[str, Any] = {}
        else:
            options = runner_options(settings)
        try:  # the runner `python -m realtime_gateway` uses (fast handshakes); an older gateway: aiohttp's own
            from realtime_gateway.main import gateway_runner
        except ImportError:
            runner = web.AppRunner(app, shutdown_timeout=1, **options)
        else:
            runner = gateway_runner(app, shutdown_timeout=1, **options)
        await runner.setup()
        # the gateway's listen backlog (GATEWAY_LISTEN_BACKLOG); an older gateway: aiohttp's default of 128
        await web.TCPSite(runner, settings.host, settings.port, backlog=getattr(settings, "listen_backlog", 128)).start()
        print(json.dumps({"ready": True, "port": args.port}), flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    try:
        from realtime_gateway.__main__ import run_loop  # the gateway's own event-loop choice
    except ImportError:  # an older gateway (a "before" run): asyncio's loop, as it ran then
        asyncio.run(serve())
    else:
        with contextlib.suppress(KeyboardInterrupt):
            run_loop(serve(), settings.event_loop)


if __name__ == "__main__":
    main()
