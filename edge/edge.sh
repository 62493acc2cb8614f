#!/bin/sh
# The edge (nginx on :3000): renders edge/nginx.conf.template into a run directory and runs nginx in the
# foreground with that config, its own pid, logs and temp paths (nothing under /etc/nginx or /var is used).
#
#   sh edge/edge.sh render     write <run dir>/nginx.conf and <run dir>/health.json, check them (nginx -t)
#   sh edge/edge.sh start      render, then exec nginx in the foreground (Procfile, tests, docker compose)
#
# POSIX sh + awk only, so the same script runs on the machine and in the official nginx image.
# Settings (environment; defaults = the local run of docs/ARCHITECTURE.md):
#   EDGE_LISTEN            127.0.0.1:3000        what nginx listens on ("3000" = every interface)
#   EDGE_AUTH              127.0.0.1:8001        auth-svc
#   EDGE_NOTIFICATION      127.0.0.1:8002        notification-svc
#   EDGE_CHAT              127.0.0.1:8003        chat-svc
#   EDGE_GATEWAYS          127.0.0.1:8010        realtime gateways, space-separated ("127.0.0.1:8010 127.0.0.1:8011")
#   EDGE_WEB_ROOT          <repo>/web            static pages (admin/, h5/, js/, css/)
#   EDGE_VENDOR_DIR        <web root>/node_modules/socket.io-client/dist   served at /vendor/
#   EDGE_SDK_DIR           <repo>/clients/sdk/dist   its index.js (the client SDK's pages build) served at /sdk/index.js
#   EDGE_CHARTS_DIR        <web root>/node_modules/chart.js/dist           served at /vendor/chart.js/ (reports page)
#   EDGE_RUN_DIR           <repo>/.run/edge      rendered config, pid, logs, temp files
#   EDGE_SNAPSHOT_PARENT   /tmp                  where a private clone's pages are copied for the workers (below)
#   EDGE_RESOLVER          (empty)               a DNS server for upstream names (compose: 127.0.0.11)
#   EDGE_ERROR_LOG         <run dir>/error.log   "stderr" sends it to the terminal (containers)
#   EDGE_ACCESS_LOG        <run dir>/access.log  "off" or "/dev/stdout" work too
#   EDGE_SOCKETIO_CONN_PER_ADDRESS  100       concurrent /socket.io/ connections (WebSockets, long-polls in flight)
#                                             per client address; beyond: 429 too_many_connections
#   EDGE_API_CONN_PER_ADDRESS       50        concurrent requests per client address to each REST API location
#   EDGE_UPLOAD_MAX_BODY            11m       largest request body on the picture upload route only (chat-svc's
#                                             CHAT_ATTACHMENT_MAX_BYTES, 10 MB, plus multipart overhead); 1m elsewhere
#   EDGE_TLS_CERT, EDGE_TLS_KEY     (empty)   PEM certificate chain and key: when both are set the edge also
#                                             serves HTTPS and WSS (HTTP/2) on EDGE_TLS_LISTEN; scripts/run makes a
#                                             development pair with edge/dev-cert.sh
#   EDGE_TLS_LISTEN        127.0.0.1:3443        the HTTPS/WSS address ("3443" = every interface)
#   EDGE_HSTS_MAX_AGE      0                     Strict-Transport-Security max-age in seconds on HTTPS answers;
#                                             0 = no header (set it only when every host name is served over HTTPS)
#   EDGE_WORKER_CONNECTIONS auto                 connections nginx's one worker may hold (each proxied socket is
#                                             two: the client's and the gateway's); "auto": the descriptor limit
#                                             (the soft limit is first raised to the hard one) less 64, at least
#                                             1024, at most 200000. 20,000 sockets need a hard limit of ~41,000
#                                             (docker-compose.yml sets nofile 65536; elsewhere LimitNOFILE /
#                                             `ulimit -Hn`)
#   NGINX                  nginx (or /usr/sbin/nginx)
#
# Started as root, nginx runs its workers as an unprivileged user (nobody; nginx in the official image), and
# they are the ones that open the pages, health.json and the temp files. When the clone is private (a directory
# on the way not searchable by others, e.g. under /root or in a `mktemp -d` folder, or a page not readable by
# others) they could not, and every page would be a 403. Then the edge serves a snapshot: a copy of the pages
# (web/admin, h5, js, css), the vendor bundle, the SDK's index.js, health.json and the temp directories in a
# fresh world-readable directory under EDGE_SNAPSHOT_PARENT (its path in <run dir>/served-from; the previous one is removed at the
# next start). Config, pid and logs stay in the run directory, which only the (root) master touches. Page edits
# then show after a restart of the edge. The alternative, workers running as root, would let any worker bug or
# misrouted location read the whole machine (the auth signing key under .run/ included); the copy exposes only
# the public files. A readable clone (and docker compose, whose mounts are readable) is served in place.
set -eu

EDGE_DIR="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$EDGE_DIR/.." && pwd)"
LISTEN="${EDGE_LISTEN:-127.0.0.1:3000}"
AUTH="${EDGE_AUTH:-127.0.0.1:8001}"
NOTIFICATION="${EDGE_NOTIFICATION:-127.0.0.1:8002}"
CHAT="${EDGE_CHAT:-127.0.0.1:8003}"
GATEWAYS="${EDGE_GATEWAYS:-127.0.0.1:8010}"
WEB_ROOT="${EDGE_WEB_ROOT:-$ROOT/web}"
VENDOR_DIR="${EDGE_VENDOR_DIR:-$WEB_ROOT/node_modules/socket.io-client/dist}"
SDK_DIR="${EDGE_SDK_DIR:-$ROOT/clients/sdk/dist}"
CHARTS_DIR="${EDGE_CHARTS_DIR:-$WEB_ROOT/node_modules/chart.js/dist}"
RUN_DIR="${EDGE_RUN_DIR:-$ROOT/.run/edge}"
RESOLVER="${EDGE_RESOLVER:-}"
ERROR_LOG="${EDGE_ERROR_LOG:-$RUN_DIR/error.log}"
ACCESS_LOG="${EDGE_ACCESS_LOG:-$RUN_DIR/access.log}"
SOCKETIO_CONN_PER_ADDRESS="${EDGE_SOCKETIO_CONN_PER_ADDRESS:-100}"
API_CONN_PER_ADDRESS="${EDGE_API_CONN_PER_ADDRESS:-50}"
UPLOAD_MAX_BODY="${EDGE_UPLOAD_MAX_BODY:-11m}"
# nginx reads a relative certificate path against its prefix (the run directory), not where it was started:
# relative paths are made absolute against the caller's directory here.
absolute() { case "$1" in /*|'') printf '%s' "$1" ;; *) printf '%s/%s' "$(pwd)" "$1" ;; esac; }
TLS_CERT="$(absolute "${EDGE_TLS_CERT:-}")"
TLS_KEY="$(absolute "${EDGE_TLS_KEY:-}")"
TLS_LISTEN="${EDGE_TLS_LISTEN:-127.0.0.1:3443}"
HSTS_MAX_AGE="${EDGE_HSTS_MAX_AGE:-0}"

find_nginx() {
  if [ -n "${NGINX:-}" ]; then echo "$NGINX"; return; fi
  for candidate in nginx /usr/sbin/nginx; do
    if command -v "$candidate" >/dev/null 2>&1; then command -v "$candidate"; return; fi
  done
  echo "edge: nginx is not installed (Debian: apt-get install nginx; scripts/run installs it)" >&2
  exit 1
}

SNAPSHOT_PARENT="${EDGE_SNAPSHOT_PARENT:-/tmp}"
PAGE_DIRS="admin h5 js css"  # what the template serves from the web root (docker-compose.yml mounts the same)

others_can_reach() {  # path...: every directory from / down to each path is searchable by others
  for path in "$@"; do
    dir="$path"
    while :; do
      case "$(stat -L -c %A "$dir" 2>/dev/null)" in
        ?????????[xt]) ;;
        *) return 1 ;;
      esac
      [ "$dir" != / ] || break
      dir="$(dirname "$dir")"
    done
  done
}

others_can_read_tree() {  # dir...: below each, every directory searchable and every file readable by others
  for dir in "$@"; do
    [ -z "$(find -L "$dir" \( -type d ! -perm -o+x \) -o \( -type f ! -perm -o+r \) 2>/dev/null | head -n 1)" ] \
      || return 1
  done
}

workers_can_read() {  # the workers are this process's user unless the master runs as root
  [ "$(id -u)" != 0 ] && return 0
  [ -z "${EDGE_WORKER_USER:-}" ] || return 0  # the operator chose the workers' user
  page_dirs=""
  for d in $PAGE_DIRS; do [ ! -d "$WEB_ROOT/$d" ] || page_dirs="$page_dirs $WEB_ROOT/$d"; done
  # shellcheck disable=SC2086
  others_can_reach "$RUN_DIR" "$VENDOR_DIR" "$SDK_DIR" "$CHARTS_DIR" $page_dirs \
    && others_can_read_tree "$VENDOR_DIR" "$CHARTS_DIR" $page_dirs && [ -n "$(find -L "$SDK_DIR/index.js" -perm -o+r)" ]
}

take_snapshot() {  # sets SERVE_DIR, WEB_ROOT, VENDOR_DIR and SDK_DIR to a world-readable copy (see the top)
  previous="$(cat "$RUN_DIR/served-from" 2>/dev/null || true)"
  case "$previous" in
    "$SNAPSHOT_PARENT"/platform-edge.*)  # ours only: made by mktemp, owned by this user
      if [ -d "$previous" ] && [ "$(stat -c %u "$previous")" = "$(id -u)" ]; then rm -rf "$previous"; fi ;;
  esac
  SERVE_DIR="$(mktemp -d "$SNAPSHOT_PARENT/platform-edge.XXXXXX")"
  echo "$SERVE_DIR" >"$RUN_DIR/served-from"
  mkdir -p "$SERVE_DIR/web" "$SERVE_DIR/vendor" "$SERVE_DIR/sdk" "$SERVE_DIR/vendor-charts"
  for d in $PAGE_DIRS; do [ ! -d "$WEB_ROOT/$d" ] || cp -R "$WEB_ROOT/$d" "$SERVE_DIR/web/"; done
  cp -R "$VENDOR_DIR/." "$SERVE_DIR/vendor/"
  cp "$SDK_DIR/index.js" "$SERVE_DIR/sdk/"
  cp -R "$CHARTS_DIR/." "$SERVE_DIR/vendor-charts/"
  chmod -R a+rX "$SERVE_DIR"
  others_can_reach "$SERVE_DIR" || {
    echo "edge: nginx's workers cannot reach $SERVE_DIR either: set EDGE_SNAPSHOT_PARENT to a directory others can search" >&2
    exit 1
  }
  echo "edge: nginx's workers (an unprivileged user) cannot read $WEB_ROOT or $RUN_DIR: they serve a copy of the pages from $SERVE_DIR (restart the edge to see page edits)" >&2
  WEB_ROOT="$SERVE_DIR/web"
  VENDOR_DIR="$SERVE_DIR/vendor"
  SDK_DIR="$SERVE_DIR/sdk"
  CHARTS_DIR="$SERVE_DIR/vendor-charts"
}

nginx_at_least() {  # major.minor.patch: is this nginx that version or newer?
  have="$("$(find_nginx)" -v 2>&1 | sed -n 's|.*nginx/\([0-9.]*\).*|\1|p')"
  awk -v want="$1" -v have="$have" 'BEGIN {
    split(want, w, "."); split(have, h, ".")
    for (i = 1; i <= 3; i++) { if (h[i] + 0 != w[i] + 0) exit !(h[i] + 0 > w[i] + 0) }
    exit 0
  }'
}

tls_lines() {  # the server block's HTTPS part, or nothing when no certificate is given
  if [ -z "$TLS_CERT" ] && [ -z "$TLS_KEY" ]; then return; fi
  if [ -z "$TLS_CERT" ] || [ -z "$TLS_KEY" ]; then
    echo "edge: EDGE_TLS_CERT and EDGE_TLS_KEY go together (one of them is empty)" >&2; exit 1
  fi
  for f in "$TLS_CERT" "$TLS_KEY"; do
    [ -r "$f" ] || { echo "edge: cannot read $f (EDGE_TLS_CERT / EDGE_TLS_KEY)" >&2; exit 1; }
  done
  if nginx_at_least 1.25.1; then  # `listen ... http2` is deprecated from 1.25.1 on
    printf '        listen %s ssl backlog=4096;\n        http2 on;\n' "$TLS_LISTEN"
  else
    printf '        listen %s ssl http2 backlog=4096;\n' "$TLS_LISTEN"
  fi
  printf '        ssl_certificate %s;\n        ssl_certificate_key %s;\n' "$TLS_CERT" "$TLS_KEY"
  printf '        ssl_protocols TLSv1.2 TLSv1.3;\n'
  printf '        ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;\n'
  printf '        ssl_prefer_server_ciphers off;\n        ssl_session_cache shared:edge_tls:10m;\n'
  printf '        ssl_session_timeout 1d;\n        ssl_session_tickets off;\n'
}

raise_descriptor_limit() {  # the soft limit up to the hard one, for nginx (exec'd by this shell) to inherit
  hard="$(ulimit -Hn)"
  if [ "$hard" = unlimited ]; then ulimit -Sn 200064 2>/dev/null || true; else ulimit -Sn "$hard" 2>/dev/null || true; fi
}

worker_connections() {  # EDGE_WORKER_CONNECTIONS, or what the descriptor limit allows (see the header)
  case "${EDGE_WORKER_CONNECTIONS:-auto}" in
    auto)
      soft="$(ulimit -Sn)"  # raised by raise_descriptor_limit, in the shell that execs nginx
      [ "$soft" = unlimited ] && soft=200064
      n=$((soft - 64)); [ "$n" -ge 1024 ] || n=1024; [ "$n" -le 200000 ] || n=200000
      echo "$n" ;;
    *[!0-9]*|'') echo "edge: EDGE_WORKER_CONNECTIONS must be a number or auto" >&2; exit 1 ;;
    *) echo "$EDGE_WORKER_CONNECTIONS" ;;
  esac
}

render() {
  [ -f "$VENDOR_DIR/socket.io.esm.min.js" ] || {
    echo "edge: $VENDOR_DIR/socket.io.esm.min.js is missing: run 'npm ci' in web/ (scripts/run does)" >&2
    exit 1
  }
  [ -f "$SDK_DIR/index.js" ] || {
    echo "edge: $SDK_DIR/index.js (the client SDK the pages import) is missing: build it with" \
      "'bash scripts/infra.sh sdk && node clients/sdk/scripts/build.mjs' (scripts/run and scripts/test do)" >&2
    exit 1
  }
  [ -f "$CHARTS_DIR/chart.umd.min.js" ] || {
    echo "edge: $CHARTS_DIR/chart.umd.min.js is missing: run 'npm ci' in web/ (scripts/run does)" >&2
    exit 1
  }
  mkdir -p "$RUN_DIR"
  SERVE_DIR="$RUN_DIR"  # what the workers open: health.json and tmp/ (the pages: WEB_ROOT, VENDOR_DIR)
  workers_can_read || take_snapshot
  mkdir -p "$SERVE_DIR/tmp"
  case "$ERROR_LOG" in stderr) ERROR_LOG=stderr ;; esac
  user_line=""
  # Workers of a root master run as `nobody`, which may not traverse a private run directory; the edge only
  # reads static files and proxies, so under root it keeps root's identity only when asked to.
  if [ "$(id -u)" = 0 ] && [ "${EDGE_WORKER_USER:-}" != "" ]; then user_line="user ${EDGE_WORKER_USER};"; fi
  resolver_line=""
  [ -z "$RESOLVER" ] || resolver_line="resolver $RESOLVER valid=10s;"
  access_log="$ACCESS_LOG edge"  # the template's log_format without /socket.io/ query strings
  [ "$ACCESS_LOG" != off ] || access_log=off

  # One `server` line per gateway; health: the first is "realtime-gateway", others "realtime-gateway-2"...
  servers=""
  health_locations=""
  health_entries=""
  i=0
  for gw in $GATEWAYS; do
    i=$((i + 1))
    name="realtime-gateway"; [ "$i" = 1 ] || name="realtime-gateway-$i"
    servers="${servers}        server $gw max_fails=1 fail_timeout=5s;
"
    health_locations="${health_locations}        location = /_health/$name {
            internal;
            proxy_pass http://$gw/health;
            proxy_connect_timeout 1s;
            proxy_read_timeout 3s;
        }
"
    health_entries="${health_entries},\"$name\":<!--# include virtual=\"/_health/$name\" stub=\"down\" -->"
  done
  [ "$i" -gt 0 ] || { echo "edge: EDGE_GATEWAYS is empty" >&2; exit 1; }
  tls="$(tls_lines)"
  case "$HSTS_MAX_AGE" in
    ''|*[!0-9]*) echo "edge: EDGE_HSTS_MAX_AGE must be a number of seconds (0 = off)" >&2; exit 1 ;;
  esac
  hsts=""
  [ "$HSTS_MAX_AGE" = 0 ] || hsts="max-age=$HSTS_MAX_AGE"

  raise_descriptor_limit
  conns="$(worker_connections)" || exit 1

  awk -v run_dir="$RUN_DIR" -v worker_connections="$conns" -v serve_dir="$SERVE_DIR" -v error_log="$ERROR_LOG" -v access_log="$access_log" -v user_line="$user_line" \
      -v resolver_line="$resolver_line" -v auth="$AUTH" -v notification="$NOTIFICATION" -v chat="$CHAT" \
      -v listen="$LISTEN" -v web_root="$WEB_ROOT" -v vendor_dir="$VENDOR_DIR" -v sdk_dir="$SDK_DIR" -v charts_dir="$CHARTS_DIR" \
      -v gateway_servers="$servers" -v gateway_health="$health_locations" -v tls_lines="$tls" -v hsts="$hsts" \
      -v socketio_conn="$SOCKETIO_CONN_PER_ADDRESS" -v api_conn="$API_CONN_PER_ADDRESS" -v upload_max_body="$UPLOAD_MAX_BODY" '
    function put(line, key, value,    out, at) {
      out = ""
      while ((at = index(line, "{{" key "}}")) > 0) {
        out = out substr(line, 1, at - 1) value
        line = substr(line, at + length(key) + 4)
      }
      return out line
    }
    {
      if ($0 ~ /^\{\{GATEWAY_SERVERS\}\}$/) { printf "%s", gateway_servers; next }
      if ($0 ~ /^\{\{GATEWAY_HEALTH_LOCATIONS\}\}$/) { printf "%s", gateway_health; next }
      if ($0 ~ /^\{\{TLS_LINES\}\}$/) { if (tls_lines != "") print tls_lines; next }
      line = $0
      line = put(line, "RUN_DIR", run_dir);       line = put(line, "ERROR_LOG", error_log)
      line = put(line, "WORKER_CONNECTIONS", worker_connections)
      line = put(line, "SERVE_DIR", serve_dir)
      line = put(line, "ACCESS_LOG", access_log); line = put(line, "USER_LINE", user_line)
      line = put(line, "RESOLVER_LINE", resolver_line)
      line = put(line, "AUTH_ADDR", auth);        line = put(line, "NOTIFICATION_ADDR", notification)
      line = put(line, "CHAT_ADDR", chat);        line = put(line, "LISTEN", listen)
      line = put(line, "WEB_ROOT", web_root);     line = put(line, "VENDOR_DIR", vendor_dir)
      line = put(line, "SDK_DIR", sdk_dir)
      line = put(line, "CHARTS_DIR", charts_dir)
      line = put(line, "SOCKETIO_CONN_PER_ADDRESS", socketio_conn); line = put(line, "API_CONN_PER_ADDRESS", api_conn)
      line = put(line, "UPLOAD_MAX_BODY", upload_max_body); line = put(line, "HSTS_VALUE", hsts)
      print line
    }' "$EDGE_DIR/nginx.conf.template" >"$RUN_DIR/nginx.conf.new"
  if grep -n '{{' "$RUN_DIR/nginx.conf.new" >&2; then echo "edge: unrendered placeholders (above)" >&2; exit 1; fi

  # /health: SSI includes; "down" is the stub shown for a service that does not answer.
  printf '%s' '<!--# block name="down" -->{"status":"unreachable"}<!--# endblock -->' >"$SERVE_DIR/health.json"
  printf '{"edge":"ok","auth-svc":<!--# include virtual="/_health/auth-svc" stub="down" -->' >>"$SERVE_DIR/health.json"
  printf ',"notification-svc":<!--# include virtual="/_health/notification-svc" stub="down" -->' >>"$SERVE_DIR/health.json"
  printf ',"chat-svc":<!--# include virtual="/_health/chat-svc" stub="down" -->%s}\n' "$health_entries" >>"$SERVE_DIR/health.json"

  mv "$RUN_DIR/nginx.conf.new" "$RUN_DIR/nginx.conf"
  "$(find_nginx)" -q -t -p "$RUN_DIR" -c "$RUN_DIR/nginx.conf" -e "$(errlog_path)" \
    || { echo "edge: nginx -t refused $RUN_DIR/nginx.conf" >&2; exit 1; }
}

errlog_path() {  # nginx -e takes a file ("stderr" is accepted too)
  if [ "$ERROR_LOG" = stderr ]; then echo stderr; else echo "$ERROR_LOG"; fi
}

case "${1:-start}" in
  render)
    render
    echo "edge: rendered $RUN_DIR/nginx.conf (listen $LISTEN${TLS_CERT:+, https $TLS_LISTEN}; gateways: $GATEWAYS)"
    ;;
  start)
    render
    echo "edge: nginx on $LISTEN${TLS_CERT:+ and https/wss $TLS_LISTEN} -> auth $AUTH, notification $NOTIFICATION, chat $CHAT, gateways $GATEWAYS; logs in $RUN_DIR"
    exec "$(find_nginx)" -p "$RUN_DIR" -c "$RUN_DIR/nginx.conf" -e "$(errlog_path)" -g 'daemon off;'
    ;;
  *)
    echo "usage: $0 [render|start]" >&2
    exit 2
    ;;
esac
