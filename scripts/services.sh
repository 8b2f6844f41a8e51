#!/usr/bin/env bash
# Runs the four services of the local system as background processes against the dev instance's
# infrastructure, with the same environment variables the Kubernetes ConfigMaps set.
# usage: services.sh start|stop|status, or services.sh env <service> (its environment, one per line)
source "$(dirname "$0")/infra/lib.sh"

DATABASE_NAME=${DATABASE_NAME:-coupon}
database_url="mysql://coupon:coupon@127.0.0.1:$MARIADB_PORT/$DATABASE_NAME"

# The user service's signing key, made on the first start and kept under .local (never committed).
# PEM files put in the published folder are published in the JWKS too: the next key before a
# rotation, the previous one after it (README, "Users and tokens").
keys_dir="$STATE_DIR/keys"
signing_key="$keys_dir/signing.pem"
published_keys_dir="$keys_dir/published"
jwks_url="http://127.0.0.1:$USER_PORT/.well-known/jwks.json"
DEV_ADMIN_EMAIL=${DEV_ADMIN_EMAIL:-admin@coupon.local}
DEV_ADMIN_PASSWORD=${DEV_ADMIN_PASSWORD:-coupon-admin}

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

# Spans go to this instance's Jaeger when it runs (./dev up --tracing), unless OTEL_* say otherwise.
otlp_endpoint=${OTEL_EXPORTER_OTLP_ENDPOINT:-}
if [ -z "$otlp_endpoint" ] && "$ROOT/scripts/infra/jaeger.sh" running; then
  otlp_endpoint="http://127.0.0.1:$JAEGER_OTLP_PORT"
fi

service_env() {
  # OTEL_SERVICE_NAME names each one's spans; the other OTEL_* variables pass through (README, "Tracing").
  echo "PORT=$(port_of "$1")" "HOST=127.0.0.1" "LOG_LEVEL=${LOG_LEVEL:-info}" "OTEL_SERVICE_NAME=$1"
  [ -z "$otlp_endpoint" ] || echo "OTEL_EXPORTER_OTLP_ENDPOINT=$otlp_endpoint"
  case "$1" in
    user)
      echo "DATABASE_URL=$database_url" "REDIS_URL=redis://127.0.0.1:$REDIS_PORT" \
        "JWT_PRIVATE_KEY_FILE=$signing_key" "JWT_PUBLISHED_KEYS_DIR=$published_keys_dir"
      ;;
    coupon)
      echo "DATABASE_URL=$database_url" "REDIS_URL=redis://127.0.0.1:$REDIS_PORT" \
        "JWT_JWKS_URL=http://127.0.0.1:$USER_PORT/.well-known/jwks.json"
      ;;
    issue)
      # Two HTTP workers use both cores of a small machine (bench/README.md weighs it); in Kubernetes
      # the chart keeps one per pod and the HPA adds pods.
      echo "REDIS_URL=redis://127.0.0.1:$REDIS_PORT" "KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT" \
        "COUPON_SERVICE_URL=http://127.0.0.1:$COUPON_PORT" "JWT_JWKS_URL=$jwks_url" \
        "HTTP_WORKERS=${ISSUE_HTTP_WORKERS:-2}"
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

ensure_signing_key() {
  mkdir -p "$published_keys_dir"
  [ -f "$signing_key" ] && return 0
  log "generating the user service's signing key ${signing_key#"$ROOT"/}"
  "$node" "$ROOT/services/user/src/commands/generate-signing-key.ts" "$signing_key" >/dev/null
}

# Idempotent: creates the dev admin, or gives it back its role and password.
create_dev_admin() {
  log "dev admin $DEV_ADMIN_EMAIL"
  (cd "$ROOT/services/user" &&
    DATABASE_URL="$database_url" ADMIN_EMAIL="$DEV_ADMIN_EMAIL" ADMIN_PASSWORD="$DEV_ADMIN_PASSWORD" \
      LOG_LEVEL=warn "$node" src/commands/create-admin.ts >&2)
}

start() {
  mkdir -p "$run_dir"
  migrate
  ensure_signing_key
  create_dev_admin
  local s
  for s in "${services[@]}"; do
    if pid_alive "$run_dir/$s.pid"; then
      log "$s already running (pid $(cat "$run_dir/$s.pid"))"
      continue
    fi
    port_open "$(port_of "$s")" && die "port $(port_of "$s") for $s is taken by another process"
    # shellcheck disable=SC2046 # the environment is a list of words by design
    (cd "$ROOT/services/$s" && exec setsid env $(service_env "$s") "$node" --import @coupon/telemetry/register src/server.ts \
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
  env) service_env "${2:?usage: $0 env <service>}" | tr ' ' '\n' ;;
  *) die "usage: $0 start|stop|status|env <service>" ;;
esac
