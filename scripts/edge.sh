#!/usr/bin/env bash
# The local edge (nginx from Debian's packages) on EDGE_PORT, routing to the services like the
# Kubernetes ingress does. usage: edge.sh install|start|stop|status
source "$(dirname "$0")/infra/lib.sh"

dir="$STATE_DIR/edge"
pidfile="$dir/nginx.pid"

install() { ensure_apt nginx; }

ready() { curl -fs -o /dev/null "http://127.0.0.1:$EDGE_PORT/edge/healthz"; }

start() {
  install
  if pid_alive "$pidfile" && ready; then
    log "edge already running on 127.0.0.1:$EDGE_PORT"
    return 0
  fi
  port_open "$EDGE_PORT" && die "port $EDGE_PORT is taken by another process"
  mkdir -p "$dir/tmp"
  sed -e "s|@STATE@|$dir|g" -e "s|@EDGE_PORT@|$EDGE_PORT|g" -e "s|@USER_PORT@|$USER_PORT|g" \
    -e "s|@COUPON_PORT@|$COUPON_PORT|g" -e "s|@ISSUE_PORT@|$ISSUE_PORT|g" \
    "$ROOT/infra/edge/nginx.conf.template" >"$dir/nginx.conf"
  /usr/sbin/nginx -t -q -c "$dir/nginx.conf" -p "$dir" -e "$dir/error.log"
  (exec setsid /usr/sbin/nginx -c "$dir/nginx.conf" -p "$dir" -e "$dir/error.log" </dev/null >>"$dir/nginx.out" 2>&1) &
  wait_for "edge on 127.0.0.1:$EDGE_PORT" 30 ready || die "the edge did not start, see ${dir#"$ROOT"/}/error.log"
}

stop() { stop_pidfile edge "$pidfile" 15; }

status() {
  if pid_alive "$pidfile" && ready; then
    log "edge running on 127.0.0.1:$EDGE_PORT"
    return 0
  fi
  log "edge stopped"
  return 3
}

case "${1:-}" in
  install | start | stop | status) "$1" ;;
  *) die "usage: $0 install|start|stop|status" ;;
esac
