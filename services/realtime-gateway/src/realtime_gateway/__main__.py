"""`python -m realtime_gateway [--host H] [--port P]`: run the gateway; flags override `GATEWAY_*` settings."""

import argparse
import logging

from aiohttp import web

from realtime_gateway.main import create_app
from realtime_gateway.settings import Settings

log = logging.getLogger("realtime_gateway")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="realtime_gateway", description=__doc__)
    parser.add_argument("--host", help="interface to bind (default: GATEWAY_HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to bind (default: GATEWAY_PORT or 8010)")
    args = parser.parse_args(argv)

    settings = Settings()
    overrides = {name: value for name, value in (("host", args.host), ("port", args.port)) if value is not None}
    settings = settings.model_copy(update=overrides)

    web.run_app(create_app(settings), host=settings.host, port=settings.port, print=log.info)


if __name__ == "__main__":
    main()
