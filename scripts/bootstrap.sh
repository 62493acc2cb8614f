#!/usr/bin/env bash
# Makes .venv exactly what uv.lock says: every package of the repo (editable, with all its extras) plus the root
# pyproject's dev group (ruff, pytest plugins, playwright, ...), nothing resolved afresh (`uv sync --frozen`; uv
# itself comes pinned through scripts/uv). Skipped when nothing it depends on has changed.
#
#   bash scripts/bootstrap.sh          VENV=/path/to/venv to use another one; PYTHON=python3.11 to pick python
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
cd "$ROOT"

stamp_file="$VENV/.bootstrap-stamp"
stamp="$( { "$PYTHON" --version; grep -m1 '^UV_VERSION=' scripts/uv
            cat uv.lock pyproject.toml libs/*/pyproject.toml services/*/pyproject.toml; } | sha256sum | cut -d' ' -f1)"
if [ -x "$VENV/bin/python" ] && [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$stamp" ]; then
  exit 0
fi

echo "bootstrap: installing uv.lock into ${VENV#"$ROOT"/}" >&2
# --frozen: install the lock as it is (scripts/test's `uv lock --check` says when it is stale);
# --all-packages --all-extras: every lib and service of the workspace, editable, with every extra;
# the dev group is installed by default. The machine's own python; uv never downloads one.
UV_PROJECT_ENVIRONMENT="$VENV" UV_PYTHON_DOWNLOADS=never \
  sh scripts/uv sync --quiet --frozen --all-packages --all-extras --python "$PYTHON"
echo "$stamp" >"$stamp_file"
