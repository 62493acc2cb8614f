#!/bin/sh
# The image's command (docker/Dockerfile): runs SERVICE_APP on SERVICE_PORT, on every address of the container.
#   module:function   an ASGI app factory, served by uvicorn (proxy headers are the app's own business:
#                     each service trusts X-Forwarded-For only from its *_FORWARDED_ALLOW_IPS)
#   module            `python -m module --host 0.0.0.0 --port PORT` (the gateway: its own aiohttp server)
set -eu
case "$SERVICE_APP" in
  *:*) exec uvicorn --factory "$SERVICE_APP" --host 0.0.0.0 --port "$SERVICE_PORT" --no-proxy-headers ;;
  *) exec python -m "$SERVICE_APP" --host 0.0.0.0 --port "$SERVICE_PORT" ;;
esac
