# Shared by the infrastructure scripts: where an instance lives, its ports, and small helpers.
# An instance ("dev" for ./dev up, "test" for the test suite) is a set of servers with its own
# ports and data folder, so the tests never touch the data of a running local system.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
INFRA_INSTANCE=${INFRA_INSTANCE:-dev}
STATE_DIR="$ROOT/.local/$INFRA_INSTANCE"

case "$INFRA_INSTANCE" in
  dev) port_base=10000 ;;
  test) port_base=20000 ;;
  *) port_base=${INFRA_PORT_BASE:?INFRA_PORT_BASE must be set for instance $INFRA_INSTANCE} ;;
esac

REDIS_PORT=${REDIS_PORT:-$((port_base + 6379))}
SENTINEL_PORT=${SENTINEL_PORT:-$((port_base + 6380))}
MARIADB_PORT=${MARIADB_PORT:-$((port_base + 3306))}
KAFKA_PORT=${KAFKA_PORT:-$((port_base + 9092))}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-$((port_base + 9093))}
# Jaeger (./dev up --tracing): OTLP/HTTP in, the query API out (16686 for dev, as Jaeger's own default).
JAEGER_OTLP_PORT=${JAEGER_OTLP_PORT:-$((port_base + 4318))}
JAEGER_QUERY_PORT=${JAEGER_QUERY_PORT:-$((port_base + 6686))}
JAEGER_QUERY_GRPC_PORT=${JAEGER_QUERY_GRPC_PORT:-$((port_base + 6685))}
JAEGER_HEALTH_PORT=${JAEGER_HEALTH_PORT:-$((port_base + 3133))}

# The local system (./dev up) on loopback: the edge in front, the four services behind it.
EDGE_PORT=${EDGE_PORT:-8080}
USER_PORT=${USER_PORT:-8081}
COUPON_PORT=${COUPON_PORT:-8082}
ISSUE_PORT=${ISSUE_PORT:-8083}
ISSUE_CONSUMER_PORT=${ISSUE_CONSUMER_PORT:-8084}

# The Node 24 binary itself: node_modules/.bin/node is a shell shim whose child would outlive a
# SIGTERM sent to the shim, so long-running processes are started from the real path.
node_bin() { "$ROOT/node_modules/.bin/node" -p process.execPath; }

log() { printf '[infra:%s] %s\n' "$INFRA_INSTANCE" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# apt-get update runs only when something is missing, and at most once per script run.
apt_updated=
ensure_apt() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  # Each infra script runs as its own process: package lists refreshed in the last hour are fresh
  # enough, so one `up` does not update them once per server.
  if [ -z "$apt_updated" ] && ! find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -60 | grep -q .; then
    log "apt-get update"
    $sudo apt-get update -qq >&2
    apt_updated=1
  fi
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() {
  local what=$1 timeout=$2
  shift 2
  local deadline=$((SECONDS + timeout))
  until "$@"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.2
  done
  log "$what is ready"
}

# A zombie (exited, not yet reaped) answers kill -0 but is not running.
pid_alive() {
  [ -f "$1" ] || return 1
  local state
  state=$(ps -o stat= -p "$(cat "$1")" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "${state:0:1}" != Z ]
}

# Sends SIGTERM, waits, then SIGKILL: a stop always leaves no process behind.
stop_pidfile() {
  local name=$1 pidfile=$2 timeout=${3:-30}
  if ! pid_alive "$pidfile"; then
    rm -f "$pidfile"
    return 0
  fi
  local pid
  pid=$(cat "$pidfile")
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + timeout))
  while kill -0 "$pid" 2>/dev/null; do
    if [ $SECONDS -ge $deadline ]; then
      log "$name did not stop in ${timeout}s, killing"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    sleep 0.2
  done
  rm -f "$pidfile"
}

# Go builds that take minutes are made once per machine into a folder of .local, and again only
# when their key changes: a hash of what the build depends on (the version, the Go toolchain, the
# module's go.mod and go.sum, and the build function's own text).
# usage: go_build_key VERSION MODULE_DIR BUILD_FUNCTION
go_build_key() {
  {
    printf '%s\n' "$1" "$(go env GOVERSION)"
    cat "$2/go.mod" "$2/go.sum"
    declare -f "$3"
  } | sha256sum | cut -d' ' -f1
}

# usage: go_build_once BIN_DIR KEY WHAT BUILD_FUNCTION   (BUILD_FUNCTION builds into the folder it is given)
go_build_once() {
  local bin_dir=$1 key=$2 what=$3 build=$4
  [ "$(cat "$bin_dir/build-key" 2>/dev/null)" = "$key" ] && return 0
  command -v go >/dev/null || die "Go is needed to build $what"
  log "building $what"
  local started=$SECONDS
  rm -rf "$bin_dir.new"
  mkdir -p "$bin_dir.new"
  "$build" "$bin_dir.new"
  echo "$key" >"$bin_dir.new/build-key"
  rm -rf "$bin_dir"
  mv "$bin_dir.new" "$bin_dir"
  log "built in $((SECONDS - started)) s"
}
