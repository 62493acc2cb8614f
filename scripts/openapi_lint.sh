#!/bin/sh
# Lints each service's OpenAPI document (scripts/openapi_dump.py) with Redocly CLI's recommended rules
# (tools/openapi-lint/redocly.yaml): 0 errors or it fails. Redocly CLI comes from tools/openapi-lint's
# package-lock.json (npm ci when node_modules is missing or older than the lock). A step of scripts/test.
set -eu

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TOOL="$ROOT/tools/openapi-lint"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
if [ ! -x "$TOOL/node_modules/.bin/redocly" ] || [ "$TOOL/package-lock.json" -nt "$TOOL/node_modules/.package-lock.json" ]; then
  (cd "$TOOL" && npm ci --no-audit --no-fund --loglevel=error)
fi
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
# The services log their start at build: keep the lint's output to the lint.
"$PYTHON" "$ROOT/scripts/openapi_dump.py" "$out" >/dev/null
cd "$TOOL"
REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
  node_modules/.bin/redocly lint --config redocly.yaml --format=summary "$out"/*.json
