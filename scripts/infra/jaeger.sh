#!/usr/bin/env bash
# Jaeger as the local trace backend (./dev up --tracing): built once from the Go module proxy
# (infra/jaeger) into .local/jaeger/bin, run with infra/jaeger/config.yaml, traces in memory.
# usage: [INFRA_INSTANCE=dev] jaeger.sh install|start|stop|status|running
#   running: exit 0 when this instance's Jaeger is up (services.sh then exports spans to it)
source "$(dirname "$0")/lib.sh"

JAEGER_VERSION=v1.75.0
BIN_DIR="$ROOT/.local/jaeger/bin"
RUN_DIR="$STATE_DIR/jaeger"
PIDFILE="$RUN_DIR/jaeger.pid"

build_binary() {
  # The version the binary reports (jaeger version, its /status page); the Makefile sets it so.
  local ldflags="-s -w -X github.com/jaegertracing/jaeger/internal/version.latestVersion=$JAEGER_VERSION"
  (cd "$ROOT/infra/jaeger" && GOFLAGS="-mod=mod -buildvcs=false" go build -p 2 -ldflags "$ldflags" \
    -o "$1/jaeger" github.com/jaegertracing/jaeger/cmd/jaeger)
}

install() {
  go_build_once "$BIN_DIR" "$(go_build_key "$JAEGER_VERSION" "$ROOT/infra/jaeger" build_binary)" \
    "Jaeger $JAEGER_VERSION (go build, about 5 minutes the first time on 2 cores)" build_binary
}

healthy() { curl -fs -o /dev/null "http://127.0.0.1:$JAEGER_HEALTH_PORT/status"; }

start() {
  ensure_apt curl
  install
  mkdir -p "$RUN_DIR"
  if pid_alive "$PIDFILE"; then
    log "jaeger already running (pid $(cat "$PIDFILE"))"
    return 0
  fi
  local port
  for port in "$JAEGER_OTLP_PORT" "$JAEGER_QUERY_PORT" "$JAEGER_QUERY_GRPC_PORT" "$JAEGER_HEALTH_PORT"; do
    port_open "$port" && die "port $port for jaeger is taken by another process"
  done
  JAEGER_OTLP_ENDPOINT="127.0.0.1:$JAEGER_OTLP_PORT" \
    JAEGER_QUERY_ENDPOINT="127.0.0.1:$JAEGER_QUERY_PORT" \
    JAEGER_QUERY_GRPC_ENDPOINT="127.0.0.1:$JAEGER_QUERY_GRPC_PORT" \
    JAEGER_HEALTH_ENDPOINT="127.0.0.1:$JAEGER_HEALTH_PORT" \
    setsid "$BIN_DIR/jaeger" --config "file:$ROOT/infra/jaeger/config.yaml" >>"$RUN_DIR/jaeger.log" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  local deadline=$((SECONDS + 30))
  until healthy; do
    if ! pid_alive "$PIDFILE" || [ $SECONDS -ge $deadline ]; then
      tail -20 "$RUN_DIR/jaeger.log" >&2
      die "jaeger did not start, see ${RUN_DIR#"$ROOT"/}/jaeger.log"
    fi
    sleep 0.2
  done
  log "jaeger is ready: OTLP/HTTP on 127.0.0.1:$JAEGER_OTLP_PORT, query API on http://127.0.0.1:$JAEGER_QUERY_PORT"
}

stop() { stop_pidfile jaeger "$PIDFILE" 10; }

status() {
  if pid_alive "$PIDFILE"; then log "jaeger running, query API on http://127.0.0.1:$JAEGER_QUERY_PORT"; else
    log "jaeger stopped"
    return 3
  fi
}

case "${1:-}" in
  install | start | stop | status) "$1" ;;
  running) pid_alive "$PIDFILE" ;;
  *) die "usage: $0 install|start|stop|status|running" ;;
esac
