#!/usr/bin/env bash
# A RabbitMQ node and a PostgreSQL server of the bench's own (Debian packages, as scripts/infra.sh installs them),
# beside the shared ones: on a machine where other test suites use the shared servers, their CPU per chat message
# (bench/chat_path.py) is then the bench's alone, and their settings can be A/B-tested without restarting anything
# others use. Data under $OWN_DIR (default /tmp/bench-own), dropped by `down`.
#
#   bash bench/own_servers.sh up        RabbitMQ on 127.0.0.1:5682 (management 15682), PostgreSQL on 5442
#   OWN_RABBITMQ_ERL_ARGS="+sbwt medium +sbwtdcpu short +sbwtdio short" bash bench/own_servers.sh up
#                                       extra Erlang VM flags (here: Erlang's own busy-wait defaults)
#   OWN_POSTGRES_ARGS="-c commit_delay=0" bash bench/own_servers.sh up        extra postgres -c settings
#   bash bench/own_servers.sh down
# Then: BENCH_AMQP_URL=amqp://guest:guest@127.0.0.1:5682/ BENCH_AMQP_MANAGEMENT_URL=http://guest:guest@127.0.0.1:15682 \
#       BENCH_DATABASE_URL=postgresql://platform:platform@127.0.0.1:5442/postgres .venv/bin/python bench/chat_path.py
set -euo pipefail
DIR="${OWN_DIR:-/tmp/bench-own}"
NODE="bench-own@localhost"
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"

as() { local user=$1; shift; (cd / && runuser -u "$user" -- "$@"); }

up() {
  mkdir -p "$DIR/rabbitmq" "$DIR/postgres"
  chown rabbitmq: "$DIR/rabbitmq"
  chown postgres: "$DIR/postgres"
  chmod 755 "$DIR"
  cat >"$DIR/rabbitmq/rabbitmq.conf" <<EOF
listeners.tcp.default = 5682
management.tcp.port = 15682
loopback_users = none
EOF
  echo '[rabbitmq_management].' >"$DIR/rabbitmq/enabled_plugins"
  chown rabbitmq: "$DIR/rabbitmq/rabbitmq.conf" "$DIR/rabbitmq/enabled_plugins"
  as rabbitmq env HOME=/var/lib/rabbitmq RABBITMQ_NODENAME="$NODE" RABBITMQ_DIST_PORT=25682 \
    RABBITMQ_CONFIG_FILE="$DIR/rabbitmq/rabbitmq.conf" RABBITMQ_ENABLED_PLUGINS_FILE="$DIR/rabbitmq/enabled_plugins" \
    RABBITMQ_MNESIA_BASE="$DIR/rabbitmq/mnesia" RABBITMQ_LOG_BASE="$DIR/rabbitmq/log" \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="${OWN_RABBITMQ_ERL_ARGS:-}" \
    /usr/lib/rabbitmq/bin/rabbitmq-server -detached
  if [ ! -f "$DIR/postgres/data/PG_VERSION" ]; then
    as postgres "$PG_BIN/initdb" -D "$DIR/postgres/data" -U postgres --auth=trust >/dev/null
  fi
  as postgres "$PG_BIN/pg_ctl" -D "$DIR/postgres/data" -l "$DIR/postgres/log" -w start \
    -o "-p 5442 -k $DIR/postgres -c listen_addresses=127.0.0.1 ${OWN_POSTGRES_ARGS:-}" >/dev/null
  as postgres "$PG_BIN/psql" -h "$DIR/postgres" -p 5442 -XqAt -c \
    "DO \$\$BEGIN CREATE ROLE platform LOGIN CREATEDB PASSWORD 'platform'; EXCEPTION WHEN duplicate_object THEN END\$\$"
  local i
  for i in $(seq 90); do  # the node registers with epmd a few seconds after -detached returns
    as rabbitmq env HOME=/var/lib/rabbitmq rabbitmqctl -n "$NODE" -q await_startup >/dev/null 2>&1 && break
    sleep 1
  done
  echo "own servers: RabbitMQ $NODE on 5682 (management 15682), PostgreSQL on 5442 ($DIR)"
}

down() {
  as rabbitmq env HOME=/var/lib/rabbitmq rabbitmqctl -n "$NODE" -q stop >/dev/null 2>&1 || true
  if [ -f "$DIR/postgres/data/postmaster.pid" ]; then
    as postgres "$PG_BIN/pg_ctl" -D "$DIR/postgres/data" -m fast -w stop >/dev/null || true
  fi
  rm -rf "$DIR"
  echo "own servers: stopped and removed ($DIR)"
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 [up|down]" >&2; exit 2 ;;
esac
