#!/usr/bin/env bash
# Makes .venv and installs every package of the repo (editable, with all its extras) plus
# requirements-dev.txt, in one pip call. Skipped when nothing it depends on has changed.
# pip runs with -qq: errors still show, warnings about this machine's extra package indexes do not.
#
#   bash scripts/bootstrap.sh          VENV=/path/to/venv to use another one; PYTHON=python3.11 to pick python
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
cd "$ROOT"

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
  rm -rf "$VENV"
  if ! "$PYTHON" -m venv "$VENV" >/dev/null 2>&1; then
    # Debian's python3 ships venv without ensurepip until python3-venv is installed.
    rm -rf "$VENV"
    echo "bootstrap: installing python3-venv" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    "$PYTHON" -m venv "$VENV"
  fi
fi

# One editable requirement per package dir, with every extra its pyproject declares.
mapfile -t packages < <("$VENV/bin/python" - <<'PY'
import glob, tomllib
for path in sorted(glob.glob("libs/*/pyproject.toml") + glob.glob("services/*/pyproject.toml")):
    with open(path, "rb") as f:
        extras = sorted(tomllib.load(f).get("project", {}).get("optional-dependencies", {}))
    folder = path.rsplit("/", 1)[0]
    print(f"{folder}[{','.join(extras)}]" if extras else folder)
PY
)

stamp_file="$VENV/.bootstrap-stamp"
stamp="$( { "$VENV/bin/python" --version; printf '%s\n' "${packages[@]}"
            cat libs/*/pyproject.toml services/*/pyproject.toml requirements-dev.txt 2>/dev/null; } | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$stamp" ]; then
  exit 0
fi

echo "bootstrap: installing ${#packages[@]} packages into ${VENV#"$ROOT"/}" >&2
"$VENV/bin/python" -m pip install -qq --disable-pip-version-check --upgrade pip
editable=()
for p in "${packages[@]}"; do editable+=(-e "$p"); done
"$VENV/bin/python" -m pip install -qq --disable-pip-version-check -r requirements-dev.txt "${editable[@]}"
echo "$stamp" >"$stamp_file"
