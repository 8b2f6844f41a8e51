#!/usr/bin/env bash
# Runs the four services of the local system as background processes against the dev instance's
# infrastructure, with the same environment variables the Kubernetes ConfigMaps set.
# usage: services.sh start|stop|status
source "$(dirname "$0")/infra/lib.sh"

USER_PORT=${USER_PORT:-8081}
COUPON_PORT=${COUPON_PORT:-8082}
ISSUE_PORT=${ISSUE_PORT:-8083}
ISSUE_CONSUMER_PORT=${ISSUE_CONSUMER_PORT:-8084}
DATABASE_NAME=${DATABASE_NAME:-coupon}
database_url="mysql://coupon:coupon@127.0.0.1:$MARIADB_PORT/$DATABASE_NAME"

services=(user coupon issue issue-consumer)
run_dir="$STATE_DIR/services"
node=$(node_bin)

port_of() {
  case "$1" in
    user) echo "$USER_PORT" ;;
    coupon) echo "$COUPON_PORT" ;;
    issue) echo "$ISSUE_PORT" ;;
    issue-consumer) echo "$ISSUE_CONSUMER_PORT" ;;
  esac
}

service_env() {
  echo "PORT=$(port_of "$1")" "HOST=127.0.0.1" "LOG_LEVEL=${LOG_LEVEL:-info}"
  case "$1" in
    user) echo "DATABASE_URL=$database_url" ;;
    coupon) echo "DATABASE_URL=$database_url" "REDIS_URL=redis://127.0.0.1:$REDIS_PORT" ;;
    issue)
      echo "REDIS_URL=redis://127.0.0.1:$REDIS_PORT" "KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT" \
        "COUPON_SERVICE_URL=http://127.0.0.1:$COUPON_PORT"
      ;;
    issue-consumer) echo "DATABASE_URL=$database_url" "KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT" ;;
  esac
}

ready() { curl -fs -o /dev/null "http://127.0.0.1:$(port_of "$1")/readyz"; }

migrate() {
  log "migrating database $DATABASE_NAME"
  (cd "$ROOT/packages/db" &&
    DATABASE_URL="$database_url" "$node" scripts/migrate.ts >&2)
}

start() {
  mkdir -p "$run_dir"
  migrate
  local s
  for s in "${services[@]}"; do
    if pid_alive "$run_dir/$s.pid"; then
      log "$s already running (pid $(cat "$run_dir/$s.pid"))"
      continue
    fi
    port_open "$(port_of "$s")" && die "port $(port_of "$s") for $s is taken by another process"
    # shellcheck disable=SC2046 # the environment is a list of words by design
    (cd "$ROOT/services/$s" && exec setsid env $(service_env "$s") "$node" src/server.ts \
      >>"$run_dir/$s.log" 2>&1 </dev/null) &
    echo $! >"$run_dir/$s.pid"
  done
  for s in "${services[@]}"; do
    wait_for "$s on 127.0.0.1:$(port_of "$s")" 60 ready "$s" ||
      die "$s is not ready, see ${run_dir#"$ROOT"/}/$s.log"
  done
}

stop() {
  local s
  for s in "${services[@]}"; do stop_pidfile "$s" "$run_dir/$s.pid" 30; done
}

status() {
  local s rc=0
  for s in "${services[@]}"; do
    if pid_alive "$run_dir/$s.pid"; then log "$s running on 127.0.0.1:$(port_of "$s")"; else
      log "$s stopped"
      rc=3
    fi
  done
  return $rc
}

case "${1:-}" in
  start | stop | status) "$1" ;;
  *) die "usage: $0 start|stop|status" ;;
esac
