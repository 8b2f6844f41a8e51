#!/usr/bin/env bash
# Redis (the issuance state and caches) and one Sentinel watching it (failover, used by the
# Kubernetes deployment; locally it lets clients be tested against Sentinel discovery).
# usage: redis.sh install|start|stop|status
source "$(dirname "$0")/lib.sh"

dir="$STATE_DIR/redis"
redis_pid="$dir/redis.pid"
sentinel_pid="$dir/sentinel.pid"
SENTINEL_MASTER=${SENTINEL_MASTER:-coupon-redis}

install() { ensure_apt redis-server redis-sentinel redis-tools; }

redis_ready() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }
sentinel_ready() {
  redis-cli -h 127.0.0.1 -p "$SENTINEL_PORT" sentinel get-master-addr-by-name "$SENTINEL_MASTER" 2>/dev/null |
    grep -qx "$REDIS_PORT"
}

start() {
  install
  mkdir -p "$dir"
  if pid_alive "$redis_pid" && redis_ready; then
    log "redis already running on 127.0.0.1:$REDIS_PORT"
  else
    port_open "$REDIS_PORT" && die "port $REDIS_PORT is taken by another process"
    # AOF with fsync every second: the issuance outbox stream lives in Redis until Kafka has it.
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --protected-mode yes \
      --dir "$dir" --daemonize yes --pidfile "$redis_pid" --logfile "$dir/redis.log" \
      --save "" --appendonly yes --appendfsync everysec
    wait_for "redis on 127.0.0.1:$REDIS_PORT" 30 redis_ready || die "redis did not start, see $dir/redis.log"
  fi

  if pid_alive "$sentinel_pid" && sentinel_ready; then
    log "sentinel already running on 127.0.0.1:$SENTINEL_PORT"
  else
    port_open "$SENTINEL_PORT" && die "port $SENTINEL_PORT is taken by another process"
    # Sentinel rewrites its config file, so it gets a fresh writable copy on every start.
    cat >"$dir/sentinel.conf" <<CONF
port $SENTINEL_PORT
bind 127.0.0.1
daemonize yes
pidfile $sentinel_pid
logfile $dir/sentinel.log
dir $dir
sentinel monitor $SENTINEL_MASTER 127.0.0.1 $REDIS_PORT 1
sentinel down-after-milliseconds $SENTINEL_MASTER 5000
sentinel failover-timeout $SENTINEL_MASTER 30000
CONF
    redis-sentinel "$dir/sentinel.conf"
    wait_for "sentinel on 127.0.0.1:$SENTINEL_PORT" 30 sentinel_ready || die "sentinel did not start, see $dir/sentinel.log"
  fi
}

stop() {
  stop_pidfile sentinel "$sentinel_pid"
  stop_pidfile redis "$redis_pid"
}

status() {
  if pid_alive "$redis_pid" && redis_ready; then
    log "redis running on 127.0.0.1:$REDIS_PORT, sentinel $(pid_alive "$sentinel_pid" && echo running || echo stopped)"
    return 0
  fi
  log "redis stopped"
  return 3
}

case "${1:-}" in
  install | start | stop | status) "$1" ;;
  *) die "usage: $0 install|start|stop|status" ;;
esac
