"""`python -m realtime_gateway [--host H] [--port P]`: run the gateway; flags override `GATEWAY_*` settings.

SIGTERM (and SIGINT) drain first (`ops/drain.py`: 503 to new handshakes, sockets moved elsewhere in batches over
`GATEWAY_DRAIN_SECONDS`, in-flight acks answered), then the app stops; a second signal skips the drain.
"""

import argparse
import asyncio
import logging
import signal
from collections.abc import Coroutine
from typing import Any

from servicekit.fdlimit import raise_fd_limit
from servicekit.gctune import GC_GEN0_THRESHOLD, tune_gc

from realtime_gateway.main import GATEWAY_KEY, create_app, gateway_runner, gateway_site, runner_options
from realtime_gateway.settings import Settings

log = logging.getLogger("realtime_gateway")


async def serve(settings: Settings) -> None:
    app = create_app(settings)
    # shutdown_timeout: after the drain only closing handshakes are left
    runner = gateway_runner(app, handle_signals=False, shutdown_timeout=0.5, **runner_options(settings))
    await runner.setup()
    await gateway_site(runner, settings).start()
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


def run_loop(
    main: Coroutine[Any, Any, None], choice: str = "auto", gc_gen0_threshold: int = GC_GEN0_THRESHOLD
) -> None:
    """Run `main` on uvloop (`auto` when installed, or `uvloop`) or asyncio's own loop, with the garbage
    collector set by `servicekit.gctune.tune_gc` (on the bench's 2,000 sockets, GC over a connect-all / drop-all
    lifecycle fell from 0.9-1.1 s of CPU to 0.2-0.3 s). uvloop's transports write and read with less CPU per
    call, which is most of a broadcast's cost per recipient. The file-descriptor soft limit is raised to the hard
    one first (`servicekit.fdlimit`: one descriptor per socket; 20,000 sockets need more than a default 1,024)."""
    raise_fd_limit()
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
