#!/usr/bin/env bash
# PostgreSQL + RabbitMQ for local runs and tests, on a bare Debian machine or through Docker Compose.
#
# As a command:   bash scripts/infra.sh [up|postgres|rabbitmq]     (default: up = both)
#                 bash scripts/infra.sh web        nginx + npm ci in web/ + the client SDK's build (the edge);
#                 bash scripts/infra.sh sdk / miniprogram    npm ci in clients/sdk/ or clients/miniprogram/; browser: Debian's chromium
#                 bash scripts/infra.sh stop    stops what earlier runs of this script started
# As a library:   source scripts/infra.sh; infra_up; ...; infra_stop_started
#
# Idempotent: a server that already runs is left as it is. Servers this script starts are listed in
# INFRA_STARTED (and in .run/infra-started), so a caller can stop exactly those (infra_stop_started).
# Result: PostgreSQL on 127.0.0.1:5432 with role platform/platform (LOGIN CREATEDB) and database platform;
# RabbitMQ on 127.0.0.1:5672 (guest/guest) with the management API on 127.0.0.1:15672 and its Prometheus
# endpoint on 127.0.0.1:15692/metrics.

INFRA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
INFRA_STATE_FILE="$INFRA_ROOT/.run/infra-started"
INFRA_STARTED="${INFRA_STARTED:-}"
INFRA_WAIT_SECONDS="${INFRA_WAIT_SECONDS:-90}"
_INFRA_APT_UPDATED=""

_infra_say() { printf '%s\n' "$*"; }
_infra_die() { printf 'infra: %s\n' "$*" >&2; return 1; }

_infra_as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Runs "$@" as the postgres OS user from a directory it can read.
_infra_as_postgres() {
  (cd / && if command -v runuser >/dev/null; then runuser -u postgres -- "$@"; else su postgres -s /bin/sh -c "$(printf '%q ' "$@")"; fi)
}

_infra_apt_install() {
  local log
  log="$(mktemp)"
  if [ -z "$_INFRA_APT_UPDATED" ]; then
    _infra_as_root apt-get update -qq >"$log" 2>&1 || { tail -n 20 "$log" >&2; _infra_die "apt-get update failed"; return 1; }
    _INFRA_APT_UPDATED=1
  fi
  _infra_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >"$log" 2>&1 \
    || { tail -n 20 "$log" >&2; _infra_die "apt-get install $* failed"; return 1; }
  rm -f "$log"
}

_infra_record() {
  INFRA_STARTED="${INFRA_STARTED:+$INFRA_STARTED }$1"
  mkdir -p "$(dirname "$INFRA_STATE_FILE")"
  printf '%s\n' "$1" >>"$INFRA_STATE_FILE"
}

# Polls "$@" once a second until it succeeds or INFRA_WAIT_SECONDS pass.
_infra_wait() {
  local deadline=$((SECONDS + INFRA_WAIT_SECONDS))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 1
  done
}

_infra_http_ok() {  # url user password
  python3 - "$@" <<'EOF'
import base64, sys, urllib.request
url, user, password = sys.argv[1:4]
req = urllib.request.Request(url)
req.add_header("Authorization", "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode())
sys.exit(0 if urllib.request.urlopen(req, timeout=3).status == 200 else 1)
EOF
}

_infra_tcp_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# --- Docker ---------------------------------------------------------------------------------------------

infra_docker_works() {  # a Docker engine answers (what testcontainers needs)
  command -v docker >/dev/null 2>&1 && timeout 5 docker info >/dev/null 2>&1
}

# The development pair: docker-compose.yml publishes only the edge; the dev file publishes 5432/5672/15672.
_infra_compose() { (cd "$INFRA_ROOT" && docker compose -f docker-compose.yml -f docker-compose.dev.yml "$@"); }

_infra_compose_works() {
  infra_docker_works && docker compose version >/dev/null 2>&1 \
    && compgen -G "$INFRA_ROOT/*compose.y*ml" >/dev/null
}

infra_compose_up() {
  local running
  running="$(_infra_compose ps --status running --services 2>/dev/null || true)"
  _infra_compose up -d --wait postgres rabbitmq || _infra_die "docker compose up failed" || return 1
  for svc in postgres rabbitmq; do
    grep -qx "$svc" <<<"$running" || _infra_record "compose:$svc"
  done
  _infra_wait _infra_tcp_open 127.0.0.1 5432 || _infra_die "PostgreSQL (compose) not reachable on 5432" || return 1
  _infra_wait _infra_http_ok http://127.0.0.1:15672/api/overview guest guest \
    || _infra_die "RabbitMQ management (compose) not reachable on 15672" || return 1
  _infra_say "postgres + rabbitmq: running in docker compose (5432, 5672, 15672)"
}

# --- PostgreSQL -----------------------------------------------------------------------------------------

ensure_postgres() {
  if ! command -v pg_lsclusters >/dev/null 2>&1 || ! command -v pg_ctlcluster >/dev/null 2>&1; then
    _infra_apt_install postgresql || return 1
  fi
  if [ -z "$(pg_lsclusters -h 2>/dev/null)" ]; then
    local version
    version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
    _infra_as_root pg_createcluster "$version" main >/dev/null || _infra_die "pg_createcluster failed" || return 1
  fi
  # The cluster on 5432, else the first one. Columns: version name port status owner datadir logfile
  local version name port status _owner _data logfile
  read -r version name port status _owner _data logfile < <(
    pg_lsclusters -h | awk '$3 == 5432 { print; found = 1; exit } END { if (!found) print first } NR == 1 { first = $0 }')
  local how="already running"
  if [[ "$status" != online* ]]; then
    _infra_as_root pg_ctlcluster "$version" "$name" start \
      || { tail -n 20 "$logfile" >&2; _infra_die "could not start PostgreSQL $version/$name"; return 1; }
    _infra_record "postgres:$version/$name"
    how="started"
  fi
  if ! _infra_wait pg_isready -q -h 127.0.0.1 -p "$port"; then
    tail -n 20 "$logfile" >&2
    _infra_die "PostgreSQL $version/$name not ready on 127.0.0.1:$port after ${INFRA_WAIT_SECONDS}s"
    return 1
  fi
  _infra_as_postgres psql -p "$port" -XqAt -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || _infra_die "could not create role/database platform" || return 1
SELECT CASE WHEN EXISTS (SELECT FROM pg_roles WHERE rolname = 'platform')
  THEN 'ALTER ROLE platform LOGIN CREATEDB PASSWORD ''platform'''
  ELSE 'CREATE ROLE platform LOGIN CREATEDB PASSWORD ''platform''' END \gexec
SELECT 'CREATE DATABASE platform OWNER platform'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'platform') \gexec
SQL
  _infra_say "postgres: $how ($version/$name on 127.0.0.1:$port, role platform/platform, database platform)"
}

# --- RabbitMQ -------------------------------------------------------------------------------------------

_infra_rabbit_log_tail() {
  local log
  log="$(ls -t /var/log/rabbitmq/*.log 2>/dev/null | grep -v upgrade | head -n 1)"
  [ -n "$log" ] && tail -n 30 "$log" >&2
}

# Erlang's schedulers spin (busy-wait) before they sleep, by default: on a small machine shared with the services,
# a node with those defaults took 4.6-5.1 ms of CPU per chat message against 2.6-3.4 ms without (bench/chat_path.py,
# docs/SCALING.md). RabbitMQ's start scripts turn the spinning off already; these flags say so where we start a
# node (here, docker-compose.yml, the test plugin's container), so a packaging change cannot bring it back unseen.
INFRA_RABBITMQ_ERL_ARGS="+sbwt none +sbwtdcpu none +sbwtdio none"

ensure_rabbitmq() {
  if ! command -v rabbitmqctl >/dev/null 2>&1; then
    _infra_apt_install rabbitmq-server || return 1
  fi
  local how="already running"
  if ! rabbitmqctl -q status >/dev/null 2>&1; then
    _infra_as_root env RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="$INFRA_RABBITMQ_ERL_ARGS" rabbitmq-server -detached >/dev/null 2>&1 \
      || { _infra_rabbit_log_tail; _infra_die "rabbitmq-server -detached failed"; return 1; }
    _infra_record "rabbitmq"
    how="started"
    if ! _infra_wait rabbitmqctl -q status; then
      _infra_rabbit_log_tail
      _infra_die "RabbitMQ not ready after ${INFRA_WAIT_SECONDS}s"
      return 1
    fi
  fi
  # The management API (tests, people) and RabbitMQ's own Prometheus endpoint (:15692/metrics: queue depths,
  # rates, connections; see ops/grafana/platform.json).
  local plugin
  for plugin in rabbitmq_management rabbitmq_prometheus; do
    if ! rabbitmq-plugins -q list -e -m 2>/dev/null | grep -qx "$plugin"; then
      rabbitmq-plugins -q enable "$plugin" >/dev/null || _infra_die "could not enable $plugin" || return 1
    fi
  done
  if ! _infra_wait _infra_http_ok http://127.0.0.1:15672/api/overview guest guest; then
    _infra_rabbit_log_tail
    _infra_die "RabbitMQ management API not answering on 127.0.0.1:15672 after ${INFRA_WAIT_SECONDS}s"
    return 1
  fi
  if ! _infra_wait _infra_http_ok http://127.0.0.1:15692/metrics guest guest; then
    _infra_rabbit_log_tail
    _infra_die "RabbitMQ Prometheus endpoint not answering on 127.0.0.1:15692 after ${INFRA_WAIT_SECONDS}s"
    return 1
  fi
  _infra_say "rabbitmq: $how (127.0.0.1:5672 guest/guest, management http://127.0.0.1:15672, metrics http://127.0.0.1:15692/metrics)"
}

# --- edge and browser tools (Debian packages; used by scripts/run and scripts/test) ---------------------

ensure_nginx() {  # the edge (edge/edge.sh) runs nginx with its own config; the package's own site is not used
  if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
    _infra_say "edge: installing nginx"
    _infra_apt_install nginx || return 1
  fi
}

ensure_node() {  # npm: the pinned socket.io-client (/vendor/) and the client SDK the pages import (/sdk/)
  if ! command -v npm >/dev/null 2>&1; then
    _infra_say "web: installing nodejs + npm"
    _infra_apt_install nodejs npm || return 1
  fi
}

ensure_chromium() {  # the browser tests drive Debian's Chromium (never a downloaded browser)
  if [ ! -x /usr/bin/chromium ]; then
    _infra_say "e2e: installing chromium"
    _infra_apt_install chromium || return 1
  fi
  ensure_cjk_fonts
}

ensure_cjk_fonts() {  # the pages are in Chinese first: without a CJK font Chromium draws boxes in screenshots
  if ! dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null | grep -q "ok installed"; then
    _infra_say "e2e: installing fonts-noto-cjk (Chinese text in the browser tests' screenshots)"
    _infra_apt_install fonts-noto-cjk || return 1
  fi
}

# npm ci in web/ when node_modules is missing or older than package-lock.json (stamp = the lock's hash).
ensure_web_deps() {
  ensure_node || return 1
  local web="$INFRA_ROOT/web" stamp
  stamp="$(sha256sum "$web/package-lock.json" | cut -d' ' -f1)"
  if [ -f "$web/node_modules/socket.io-client/dist/socket.io.esm.min.js" ] \
     && [ "$(cat "$web/node_modules/.lock-stamp" 2>/dev/null)" = "$stamp" ]; then
    return 0
  fi
  _infra_say "web: npm ci (socket.io-client, pinned in web/package-lock.json)"
  (cd "$web" && npm ci --no-audit --no-fund --loglevel=error) || _infra_die "npm ci in web/ failed" || return 1
  echo "$stamp" >"$web/node_modules/.lock-stamp"
}

ensure_sdk_deps() {  # the client SDK's build and test tools (clients/sdk/package-lock.json; npm ci from the lock)
  ensure_node || return 1
  local sdk="$INFRA_ROOT/clients/sdk" stamp
  stamp="$(sha256sum "$sdk/package-lock.json" | cut -d' ' -f1)"
  if [ -d "$sdk/node_modules/socket.io-client" ] && [ "$(cat "$sdk/node_modules/.lock-stamp" 2>/dev/null)" = "$stamp" ]; then
    return 0
  fi
  _infra_say "sdk: npm ci (socket.io-client, esbuild, typescript, ws; pinned in clients/sdk/package-lock.json)"
  (cd "$sdk" && npm ci --no-audit --no-fund --loglevel=error) || _infra_die "npm ci in clients/sdk/ failed" || return 1
  echo "$stamp" >"$sdk/node_modules/.lock-stamp"
}

ensure_miniprogram_deps() {  # the mini program's test tools (miniprogram-simulate + jsdom; clients/miniprogram/package-lock.json)
  ensure_node || return 1
  local mp="$INFRA_ROOT/clients/miniprogram" stamp
  stamp="$(sha256sum "$mp/package-lock.json" | cut -d' ' -f1)"
  if [ -d "$mp/node_modules/miniprogram-simulate" ] && [ "$(cat "$mp/node_modules/.lock-stamp" 2>/dev/null)" = "$stamp" ]; then
    return 0
  fi
  _infra_say "miniprogram: npm ci (miniprogram-simulate, jsdom; pinned in clients/miniprogram/package-lock.json)"
  (cd "$mp" && npm ci --no-audit --no-fund --loglevel=error) || _infra_die "npm ci in clients/miniprogram/ failed" || return 1
  echo "$stamp" >"$mp/node_modules/.lock-stamp"
}

# The client SDK's pages build (clients/sdk/dist/index.js, which the edge serves at /sdk/index.js and the pages
# import), made again when missing or older than what it is built from.
ensure_sdk_build() {
  ensure_sdk_deps || return 1
  local sdk="$INFRA_ROOT/clients/sdk"
  if [ -f "$sdk/dist/index.js" ] && [ -z "$(find "$sdk/src" "$sdk/scripts" "$sdk/package-lock.json" "$sdk/tsconfig.json" \
       "$INFRA_ROOT/libs/contracts/generated/payloads.d.ts" -newer "$sdk/dist/index.js" -print -quit)" ]; then
    return 0
  fi
  _infra_say "sdk: building clients/sdk/dist (the pages import dist/index.js from the edge)"
  node "$sdk/scripts/build.mjs" || _infra_die "the client SDK's build failed (node clients/sdk/scripts/build.mjs)" || return 1
}

infra_web_up() {  # what the edge needs: nginx, the npm-installed client (/vendor/) and the client SDK (/sdk/)
  ensure_nginx && ensure_web_deps && ensure_sdk_build
}

# --- both -----------------------------------------------------------------------------------------------

infra_up() {
  if _infra_compose_works; then
    infra_compose_up
  else
    ensure_postgres && ensure_rabbitmq
  fi
}

# Stops exactly the servers this shell's infra_up started (INFRA_STARTED), newest first.
# The CLI's `stop` passes the list recorded by earlier runs in .run/infra-started instead.
infra_stop_started() {
  local item items=()
  read -r -a items <<<"${1:-$INFRA_STARTED}"
  for ((i = ${#items[@]} - 1; i >= 0; i--)); do
    item="${items[i]}"
    case "$item" in
      postgres:*) item="${item#postgres:}"; _infra_as_root pg_ctlcluster "${item%/*}" "${item#*/}" stop || true
                  _infra_say "postgres: stopped (${item})" ;;
      rabbitmq)   rabbitmqctl -q stop >/dev/null 2>&1 || true; _infra_say "rabbitmq: stopped" ;;
      compose:*)  _infra_compose stop "${item#compose:}" >/dev/null 2>&1 || true
                  _infra_say "${item#compose:}: stopped (docker compose)" ;;
    esac
  done
  INFRA_STARTED=""
  rm -f "$INFRA_STATE_FILE"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  case "${1:-up}" in
    up) infra_up ;;
    postgres) ensure_postgres ;;
    rabbitmq) ensure_rabbitmq ;;
    web) infra_web_up ;;
    sdk) ensure_sdk_deps ;;
    miniprogram) ensure_miniprogram_deps ;;
    browser) ensure_chromium ;;
    stop) if [ -f "$INFRA_STATE_FILE" ]; then infra_stop_started "$(awk '!seen[$0]++' "$INFRA_STATE_FILE" | tr '\n' ' ')"; fi ;;
    *) echo "usage: $0 [up|postgres|rabbitmq|web|sdk|miniprogram|browser|stop]" >&2; exit 2 ;;
  esac
fi
