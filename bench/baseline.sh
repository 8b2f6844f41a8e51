#!/usr/bin/env bash
# A second issue service, built from another revision (or another working copy), running beside the
# local system's on BASELINE_PORT (18083), so that `bench/issue-path.sh compare` measures an
# optimisation against what came before in the same run. It shares Redis, Kafka, the coupon service
# and the consumer with the local system; its relay has a consumer name of its own.
# usage: bench/baseline.sh start [<git revision> | <directory>]   (default HEAD)
#        bench/baseline.sh stop
# BASELINE_TRACING=1: it exports its spans to the local Jaeger (bench/telemetry.sh).
# BASELINE_NODE_FLAGS: node flags for it and its workers, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
# (Node 24 refuses --cpu-prof in NODE_OPTIONS); the profiles are written when it stops.
source "$(dirname "$0")/../scripts/infra/lib.sh"

dir="$STATE_DIR/bench/baseline"
pidfile="$STATE_DIR/bench/baseline.pid"
port=${BASELINE_PORT:-18083}

ready() { curl -fs -o /dev/null "http://127.0.0.1:$port/readyz"; }

start() {
  local source=${1:-HEAD}
  stop
  "$ROOT/scripts/services.sh" status >/dev/null 2>&1 || die "the local system is not running: ./dev up first"
  port_open "$port" && die "port $port is taken by another process"
  rm -rf "$dir"
  mkdir -p "$dir"
  if [ -d "$source" ]; then
    log "baseline: copying $source"
    tar -C "$source" --exclude=node_modules --exclude=.local --exclude=.git --exclude=bench/results -c . | tar -x -C "$dir"
  else
    log "baseline: $(git -C "$ROOT" rev-parse --short "$source") ($source)"
    git -C "$ROOT" archive "$source" | tar -x -C "$dir"
  fi
  (cd "$dir" && pnpm install --offline --frozen-lockfile --reporter=silent >&2)
  local environment
  environment=$("$ROOT/scripts/services.sh" env issue | grep -v '^PORT=\|^OTEL_EXPORTER_OTLP_ENDPOINT=')
  if [ "${BASELINE_TRACING:-}" = 1 ]; then
    "$ROOT/scripts/infra/jaeger.sh" running || die "BASELINE_TRACING=1 needs Jaeger: scripts/infra/jaeger.sh start"
    environment+=" OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$JAEGER_OTLP_PORT"
  fi
  # Started as the services are, with the telemetry hook, where the revision has one.
  local flags telemetry=()
  read -r -a flags <<<"${BASELINE_NODE_FLAGS:-}"
  [ -f "$dir/packages/telemetry/src/register.ts" ] && telemetry=(--import @coupon/telemetry/register)
  # shellcheck disable=SC2086 # the environment is a list of words by design
  (cd "$dir/services/issue" && exec setsid env $environment PORT="$port" RELAY_CONSUMER=baseline \
    "$(node_bin)" "${flags[@]}" "${telemetry[@]}" src/server.ts >>"$STATE_DIR/bench/baseline.log" 2>&1 </dev/null) &
  echo $! >"$pidfile"
  wait_for "baseline issue service on 127.0.0.1:$port" 60 ready ||
    die "the baseline did not start, see ${STATE_DIR#"$ROOT"/}/bench/baseline.log"
}

stop() {
  stop_pidfile "baseline issue service" "$pidfile" 30
  rm -rf "$dir"
}

case "${1:-}" in
  start) start "${2:-}" ;;
  stop) stop ;;
  *) die "usage: $0 start [<git revision> | <directory>] | stop" ;;
esac
