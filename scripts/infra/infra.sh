#!/usr/bin/env bash
# Brings the local infrastructure of one instance up or down: Redis (+ Sentinel), MariaDB, Kafka.
# usage: [INFRA_INSTANCE=dev|test] infra.sh install|up|down|status
# `up` is idempotent and writes $STATE_DIR/endpoints.json, which services and tests read.
source "$(dirname "$0")/lib.sh"

components=(redis mariadb kafka)
here="$ROOT/scripts/infra"

write_endpoints() {
  cat >"$STATE_DIR/endpoints.json" <<JSON
{
  "redisUrl": "redis://127.0.0.1:$REDIS_PORT",
  "sentinels": [{ "host": "127.0.0.1", "port": $SENTINEL_PORT }],
  "databaseServerUrl": "mysql://coupon:coupon@127.0.0.1:$MARIADB_PORT",
  "kafkaBrokers": ["127.0.0.1:$KAFKA_PORT"]
}
JSON
}

case "${1:-}" in
  install)
    for c in "${components[@]}"; do "$here/$c.sh" install; done
    ;;
  up)
    mkdir -p "$STATE_DIR"
    for c in "${components[@]}"; do "$here/$c.sh" start; done
    write_endpoints
    log "up: endpoints in ${STATE_DIR#"$ROOT"/}/endpoints.json"
    ;;
  down)
    # Reverse order: Kafka first, so nothing is left waiting on a store that has gone.
    for ((i = ${#components[@]} - 1; i >= 0; i--)); do "$here/${components[i]}.sh" stop; done
    rm -f "$STATE_DIR/endpoints.json"
    ;;
  status)
    rc=0
    for c in "${components[@]}"; do "$here/$c.sh" status || rc=3; done
    exit $rc
    ;;
  *) die "usage: $0 install|up|down|status" ;;
esac
