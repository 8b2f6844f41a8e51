#!/usr/bin/env bash
# Apache Kafka in KRaft mode, one node (broker + controller), from the official org.apache.kafka
# artifacts on Maven Central, run with the machine's Java 17.
#
#   scripts/infra/kafka.sh install   resolve the broker's jars into .local/kafka/<version>/libs (once)
#   scripts/infra/kafka.sh start     install if needed, format storage once, start, create the topics
#   scripts/infra/kafka.sh stop      SIGTERM (controlled shutdown), SIGKILL after 60 s
#   scripts/infra/kafka.sh status    exit 0 when running, 3 when not
#
# INFRA_INSTANCE=dev|test picks the ports and $STATE_DIR (see lib.sh). Per instance: the generated
# server.properties, data/ (the log dirs, KRaft metadata included), logs/server.log, kafka.out (the
# JVM's own stdout/stderr) and kafka.pid (the java process itself) under $STATE_DIR/kafka.
# shellcheck source=scripts/infra/lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The one place the broker version is chosen; infra/kafka/pom.xml receives it as -Dkafka.version.
# 4.4.0: newest served release; runs on Java 17 and kafkajs 2.2.4 works against it
# (packages/kafka/test/kafka-roundtrip.test.ts).
KAFKA_VERSION=${KAFKA_VERSION:-4.4.0}
KAFKA_HEAP=${KAFKA_HEAP:-512m}

KAFKA_HOME="$ROOT/.local/kafka/$KAFKA_VERSION"
KAFKA_LIBS="$KAFKA_HOME/libs"
KAFKA_DIR="$STATE_DIR/kafka"
KAFKA_PIDFILE="$KAFKA_DIR/kafka.pid"
KAFKA_PROPS="$KAFKA_DIR/server.properties"
KAFKA_DATA="$KAFKA_DIR/data"
KAFKA_LOGS="$KAFKA_DIR/logs"
KAFKA_OUT="$KAFKA_DIR/kafka.out"
KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT"
NODE="$ROOT/node_modules/.bin/node"

java_major() {
  java -version 2>&1 | sed -nE '1s/.*version "([0-9]+)(\.[^"]*)?".*/\1/p'
}

ensure_java() {
  if ! command -v java >/dev/null 2>&1 || [ "$(java_major)" -lt 17 ] 2>/dev/null; then
    ensure_apt openjdk-17-jre-headless
  fi
  local major
  major=$(java_major)
  if [ -z "$major" ] || [ "$major" -lt 17 ]; then
    die "Kafka $KAFKA_VERSION needs Java 17 or newer (java -version: ${major:-none})"
  fi
}

jvm_common() {
  printf '%s\n' -Djava.awt.headless=true \
    "-Dlog4j2.configurationFile=$ROOT/infra/kafka/log4j2.properties" \
    "-Dkafka.logs.dir=$KAFKA_LOGS" \
    -cp "$KAFKA_LIBS/*"
}

cmd_install() {
  ensure_java
  [ -f "$KAFKA_LIBS/.complete" ] && return 0

  mkdir -p "$ROOT/.local/kafka"
  # The jars are shared by all instances: a dev and a test start racing here resolve them once.
  exec 8>"$ROOT/.local/kafka/.install.lock"
  flock 8
  if [ -f "$KAFKA_LIBS/.complete" ]; then
    exec 8>&-
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || ensure_apt maven

  log "resolving org.apache.kafka:kafka_2.13:$KAFKA_VERSION and its runtime dependencies (Maven)"
  local tmp="$KAFKA_HOME/libs.tmp.$$" mvn_log="$KAFKA_HOME/mvn.log" started=$SECONDS
  rm -rf "$tmp"
  mkdir -p "$KAFKA_HOME"
  local mvn_args=(-q -B -Dstyle.color=never -f "$ROOT/infra/kafka/pom.xml"
    "-Dkafka.version=$KAFKA_VERSION" "-Dkafka.libs.dir=$tmp" dependency:copy-dependencies)
  # Offline first: with a warm ~/.m2 this needs no network at all.
  if ! mvn -o "${mvn_args[@]}" >"$mvn_log" 2>&1; then
    rm -rf "$tmp"
    if ! mvn "${mvn_args[@]}" >"$mvn_log" 2>&1; then
      cat "$mvn_log" >&2
      rm -rf "$tmp"
      die "Maven could not resolve Kafka $KAFKA_VERSION (log: $mvn_log)"
    fi
  fi
  [ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ] || die "kafka_2.13-$KAFKA_VERSION.jar missing after Maven ran"
  touch "$tmp/.complete"
  rm -rf "$KAFKA_LIBS"
  mv "$tmp" "$KAFKA_LIBS"
  log "Kafka $KAFKA_VERSION: $(find "$KAFKA_LIBS" -name '*.jar' | wc -l) jars in ${KAFKA_LIBS#"$ROOT"/} ($((SECONDS - started))s)"
  exec 8>&-
}

is_running() { pid_alive "$KAFKA_PIDFILE" && port_open "$KAFKA_PORT"; }

render_properties() {
  sed -e "s|@KAFKA_PORT@|$KAFKA_PORT|g" \
    -e "s|@KAFKA_CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" \
    -e "s|@LOG_DIR@|$KAFKA_DATA|g" \
    "$ROOT/infra/kafka/server.properties" >"$KAFKA_PROPS.tmp"
  mv "$KAFKA_PROPS.tmp" "$KAFKA_PROPS"
}

# A Kafka Uuid: 16 random bytes, base64url without padding; Kafka never hands out one starting with "-".
random_cluster_id() {
  local id
  while :; do
    id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    [ "${id:0:1}" != "-" ] && break
  done
  printf '%s' "$id"
}

format_storage() {
  [ -f "$KAFKA_DATA/meta.properties" ] && return 0
  local cluster_id
  cluster_id=$(random_cluster_id)
  log "formatting KRaft storage in ${KAFKA_DATA#"$ROOT"/} (cluster id $cluster_id)"
  local jvm
  mapfile -t jvm < <(jvm_common)
  java -Xmx256m "${jvm[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$KAFKA_PROPS" \
    >>"$KAFKA_OUT" 2>&1 || {
    tail -n 20 "$KAFKA_OUT" >&2
    die "formatting the Kafka storage failed (see $KAFKA_OUT)"
  }
}

tail_logs() {
  log "last lines of $KAFKA_OUT and $KAFKA_LOGS/server.log:"
  tail -n 15 "$KAFKA_OUT" >&2 2>/dev/null || true
  grep -E ' (ERROR|FATAL) ' "$KAFKA_LOGS/server.log" 2>/dev/null | tail -n 15 >&2 || true
}

broker_listening() {
  pid_alive "$KAFKA_PIDFILE" || {
    tail_logs
    die "the Kafka broker exited during start-up"
  }
  port_open "$KAFKA_PORT"
}

cmd_start() {
  if is_running; then
    log "kafka already running (pid $(cat "$KAFKA_PIDFILE"), $KAFKA_BROKERS)"
    return 0
  fi
  local started=$SECONDS
  cmd_install
  [ -x "$NODE" ] || die "$NODE missing: run pnpm install at the repository root"

  mkdir -p "$KAFKA_DIR" "$KAFKA_DATA" "$KAFKA_LOGS"
  # Two starts of the same instance at once: the second waits, then finds the broker running.
  exec 9>"$KAFKA_DIR/.start.lock"
  flock 9
  if is_running; then
    log "kafka already running (pid $(cat "$KAFKA_PIDFILE"), $KAFKA_BROKERS)"
    return 0
  fi
  if pid_alive "$KAFKA_PIDFILE"; then
    log "a previous broker (pid $(cat "$KAFKA_PIDFILE")) is alive but not listening: replacing it"
    stop_pidfile kafka "$KAFKA_PIDFILE" 60
  fi
  rm -f "$KAFKA_PIDFILE"
  port_open "$KAFKA_PORT" && die "port $KAFKA_PORT is taken by another process; is another Kafka running?"
  port_open "$KAFKA_CONTROLLER_PORT" && die "port $KAFKA_CONTROLLER_PORT (controller) is taken by another process"

  render_properties
  format_storage

  local jvm
  mapfile -t jvm < <(jvm_common)
  log "starting Kafka $KAFKA_VERSION on $KAFKA_BROKERS (controller 127.0.0.1:$KAFKA_CONTROLLER_PORT)"
  printf '\n==== %s start\n' "$(date -Is)" >>"$KAFKA_OUT"
  # setsid: its own session, so it outlives this shell and its terminal. The inner sh writes its own
  # pid and execs java, so the pidfile holds the java pid whether or not setsid had to fork.
  # fd 9 (the start lock) must not leak into the broker, or the lock would live as long as it does.
  # shellcheck disable=SC2016 # $$ and $@ belong to the inner sh
  setsid sh -c 'echo $$ >"$0"; exec "$@"' "$KAFKA_PIDFILE" \
    java "-Xms$KAFKA_HEAP" "-Xmx$KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError \
    "${jvm[@]}" kafka.Kafka "$KAFKA_PROPS" \
    </dev/null >>"$KAFKA_OUT" 2>&1 9>&- 8>&- &
  wait_for "kafka pidfile" 10 test -s "$KAFKA_PIDFILE" || die "the broker did not write $KAFKA_PIDFILE"
  wait_for "kafka port $KAFKA_PORT" 90 broker_listening || {
    tail_logs
    stop_pidfile kafka "$KAFKA_PIDFILE" 30
    die "the Kafka broker did not listen on $KAFKA_PORT within 90s"
  }
  # Readiness: the topics are created through the admin API, retried until the broker accepts it.
  if ! "$NODE" "$ROOT/packages/kafka/src/create-topics.ts" "$KAFKA_BROKERS" --timeout-seconds 60; then
    tail_logs
    stop_pidfile kafka "$KAFKA_PIDFILE" 30
    die "the Kafka broker did not become ready (stopped it again)"
  fi
  log "kafka ready on $KAFKA_BROKERS, pid $(cat "$KAFKA_PIDFILE") ($((SECONDS - started))s)"
  exec 9>&-
}

# The broker of this instance, found by its instance-specific properties path (a pidfile lost with
# the process still alive); never any other java process.
stray_pids() {
  pgrep -f -- "kafka\.Kafka $KAFKA_PROPS\$" || true
}

cmd_stop() {
  stop_pidfile kafka "$KAFKA_PIDFILE" 60
  local pid
  for pid in $(stray_pids); do
    log "stopping stray broker of this instance (pid $pid)"
    echo "$pid" >"$KAFKA_PIDFILE"
    stop_pidfile kafka "$KAFKA_PIDFILE" 60
  done
  log "kafka stopped"
}

cmd_status() {
  if is_running; then
    log "kafka running (pid $(cat "$KAFKA_PIDFILE"), $KAFKA_BROKERS, logs in ${KAFKA_LOGS#"$ROOT"/})"
    return 0
  fi
  log "kafka not running"
  return 3
}

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 install|start|stop|status" >&2
    exit 2
    ;;
esac
