"""`python -m realtime_gateway [--host H] [--port P]`: run the gateway; flags override `GATEWAY_*` settings.

SIGTERM (and SIGINT) drain first (`drain.py`: 503 to new handshakes, sockets moved elsewhere in batches over
`GATEWAY_DRAIN_SECONDS`, in-flight acks answered), then the app stops; a second signal skips the drain.
"""

import argparse
import asyncio
import gc
import logging
import signal
from collections.abc import Coroutine
from typing import Any

from aiohttp import web

from realtime_gateway.main import GATEWAY_KEY, create_app
from realtime_gateway.settings import GC_GEN0_THRESHOLD, Settings

log = logging.getLogger("realtime_gateway")


async def serve(settings: Settings) -> None:
    app = create_app(settings)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)  # after the drain: only closing handshakes
    await runner.setup()
    await web.TCPSite(runner, settings.host, settings.port).start()
    log.info("serving on http://%s:%d", settings.host, settings.port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
        stop.clear()
        drain = asyncio.create_task(app[GATEWAY_KEY].drain.run())
        second = asyncio.create_task(stop.wait())
        await asyncio.wait({drain, second}, return_when=asyncio.FIRST_COMPLETED)
        for task in (drain, second):
            task.cancel()
    finally:
        await runner.cleanup()


def tune_gc(gen0_threshold: int = GC_GEN0_THRESHOLD) -> None:
    """Python's cyclic garbage collector, set for a process that holds many long-lived objects (every socket keeps
    engine.io, Socket.IO and aiohttp state and a few tasks alive) and allocates in bursts. 0 leaves it alone.

    - One full collection, then `gc.freeze()`: what exists by then (~80k objects: modules, classes, schemas) is
      never traversed again.
    - A young collection every `gen0_threshold` net allocations instead of Python's 700. With 700, connecting
      sockets or dropping them by the thousand runs hundreds of young and dozens of middle collections, each
      traversing the objects of the sockets still being set up or torn down, and full collections of the heap.
      Measured with the bench's 2,000 sockets (start, connect all, drop all at once, 3 s more): 0.9-1.1 s of GC
      CPU with 700 (4 full collections: 0.6-0.7 s); 0.2-0.3 s with 50,000 (the collection before freezing, ~10
      young ones of ~20 ms). Within the disconnect storm, 0.06-0.1 s of GC became none. The price: garbage in
      reference cycles waits longer to be freed (at most `gen0_threshold` objects' worth), and one young
      collection takes up to ~20 ms instead of ~0.3."""
    if gen0_threshold <= 0:
        return
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(gen0_threshold, gen1, gen2)


def run_loop(
    main: Coroutine[Any, Any, None], choice: str = "auto", gc_gen0_threshold: int = GC_GEN0_THRESHOLD
) -> None:
    """Run `main` on uvloop (`auto` when installed, or `uvloop`) or asyncio's own loop, with the garbage
    collector set by `tune_gc`. uvloop's transports write and read with less CPU per call, which is most of a
    broadcast's cost per recipient."""
    tune_gc(gc_gen0_threshold)
    if choice != "asyncio":
        try:
            import uvloop
        except ImportError:
            if choice == "uvloop":
                raise
        else:
            uvloop.run(main)
            return
    asyncio.run(main)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="realtime_gateway", description=__doc__)
    parser.add_argument("--host", help="interface to bind (default: GATEWAY_HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to bind (default: GATEWAY_PORT or 8010)")
    args = parser.parse_args(argv)

    settings = Settings()
    overrides = {name: value for name, value in (("host", args.host), ("port", args.port)) if value is not None}
    settings = settings.model_copy(update=overrides)
    run_loop(serve(settings), settings.event_loop, settings.gc_gen0_threshold)


if __name__ == "__main__":
    main()
