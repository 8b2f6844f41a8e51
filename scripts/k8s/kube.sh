#!/usr/bin/env bash
# A real Kubernetes control plane on loopback for the chart's install test (scripts/k8s/apiserver.test.ts):
# etcd from Debian's etcd-server package; kube-apiserver, kube-controller-manager, kube-scheduler
# and kubectl built from the Go module proxy (infra/kube). No kubelet and no node: Pods are created,
# never scheduled or run. The controller manager runs without its Job controller, so a Job stays as
# created until whoever waits for it marks it complete.
#   scripts/k8s/kube.sh install   fetch etcd and build the four binaries into .local/kube, once
#   scripts/k8s/kube.sh start     a new cluster: etcd, the API server, the controller manager, the scheduler
#   scripts/k8s/kube.sh stop      stop what start started
#   scripts/k8s/kube.sh env       print the kubeconfig's path and the binaries' folder
source "$(dirname "$0")/../infra/lib.sh"
INFRA_INSTANCE=kube

KUBE_VERSION=v1.37.2
KUBE_DIR="$ROOT/.local/kube"
BIN_DIR="$KUBE_DIR/bin"
RUN_DIR="$KUBE_DIR/run"
# Ports of their own (below 32768, none of the repo's dev, test, fault or edge ports).
ETCD_PORT=${KUBE_ETCD_PORT:-23790}
ETCD_PEER_PORT=${KUBE_ETCD_PEER_PORT:-23800}
APISERVER_PORT=${KUBE_APISERVER_PORT:-26443}
CONTROLLER_MANAGER_PORT=${KUBE_CONTROLLER_MANAGER_PORT:-26257}
SCHEDULER_PORT=${KUBE_SCHEDULER_PORT:-26259}
KUBECONFIG_FILE="$RUN_DIR/kubeconfig"

build_binaries() {
  local minor=${KUBE_VERSION#v1.}
  minor=${minor%%.*}
  local ldflags="-s -w"
  local pkg
  # helm's kubeVersion check and the server's /version read these; without them the binary says v0.0.0.
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  # Two packages at a time: each link takes about 2.4 GB, and the machine is shared.
  (cd "$ROOT/infra/kube" && GOFLAGS="-mod=mod -buildvcs=false" go build -p 2 -ldflags "$ldflags" -o "$1/" \
    k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler \
    k8s.io/kubernetes/cmd/kubectl)
}

install_etcd() {
  [ -x "$KUBE_DIR/etcd/usr/bin/etcd" ] && return 0
  # apt-get download + dpkg -x: the server binary alone, with no system service installed or started.
  local tmp
  tmp=$(mktemp -d)
  if ! (cd "$tmp" && apt-get download etcd-server >&2); then
    log "apt-get update"
    apt-get update -qq >&2
    (cd "$tmp" && apt-get download etcd-server >&2)
  fi
  rm -rf "$KUBE_DIR/etcd"
  dpkg -x "$tmp"/etcd-server_*.deb "$KUBE_DIR/etcd"
  rm -rf "$tmp"
  "$KUBE_DIR/etcd/usr/bin/etcd" --version | head -1 >&2
}

install() {
  mkdir -p "$KUBE_DIR"
  ensure_apt openssl curl
  install_etcd
  go_build_once "$BIN_DIR" "$(go_build_key "$KUBE_VERSION" "$ROOT/infra/kube" build_binaries)" \
    "kube-apiserver, kube-controller-manager, kube-scheduler and kubectl $KUBE_VERSION (go build, about 15 minutes cold on 2 cores)" \
    build_binaries
}

pidfile() { echo "$RUN_DIR/$1.pid"; }

# Runs a server in the background, its output in the run folder and its pid in a pidfile.
spawn() {
  local name=$1
  shift
  "$@" >"$RUN_DIR/$name.log" 2>&1 &
  echo $! >"$(pidfile "$name")"
}

kubectl_() { "$BIN_DIR/kubectl" --kubeconfig "$KUBECONFIG_FILE" "$@"; }

# A component's /healthz on its secure port, asked with the system:masters token.
healthy() {
  curl -sf -o /dev/null --cacert "$RUN_DIR/pki/ca.crt" -H "Authorization: Bearer $(cat "$RUN_DIR/token")" \
    "https://127.0.0.1:$1/healthz" 2>/dev/null ||
    # The controller manager and the scheduler serve a certificate of their own, self-signed.
    curl -sfk -o /dev/null -H "Authorization: Bearer $(cat "$RUN_DIR/token")" "https://127.0.0.1:$1/healthz"
}

# Stops the start when a server exits or does not answer in time, with the end of its log.
await() {
  local name=$1 timeout=$2
  shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ! pid_alive "$(pidfile "$name")" || [ $SECONDS -ge $deadline ]; then
      tail -30 "$RUN_DIR/$name.log" >&2
      die "$name did not start"
    fi
    sleep 0.3
  done
}

write_pki() {
  local pki=$RUN_DIR/pki
  mkdir -p "$pki"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=coupon-test-ca \
    -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj /CN=kube-apiserver \
    -keyout "$pki/apiserver.key" -out "$pki/apiserver.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$pki/san.ext"
  openssl x509 -req -in "$pki/apiserver.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
    -days 2 -extfile "$pki/san.ext" -out "$pki/apiserver.crt" 2>/dev/null
  # Service-account tokens: the controller manager signs them with the key, the API server verifies.
  openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
  openssl rand -hex 24 >"$RUN_DIR/token"
  printf '%s,coupon-test-admin,coupon-test-admin,"system:masters"\n' "$(cat "$RUN_DIR/token")" >"$pki/tokens.csv"
  printf '%s\n' \
    'apiVersion: v1' \
    'kind: Config' \
    'clusters:' \
    '  - name: coupon-test' \
    '    cluster:' \
    "      server: https://127.0.0.1:$APISERVER_PORT" \
    "      certificate-authority: $pki/ca.crt" \
    'users:' \
    '  - name: coupon-test-admin' \
    '    user:' \
    "      token: $(cat "$RUN_DIR/token")" \
    'contexts:' \
    '  - name: coupon-test' \
    '    context: { cluster: coupon-test, user: coupon-test-admin }' \
    'current-context: coupon-test' >"$KUBECONFIG_FILE"
}

start() {
  [ -x "$BIN_DIR/kube-apiserver" ] || die "not installed: run scripts/k8s/kube.sh install"
  stop
  # Every start is a new cluster: nothing of an earlier run's etcd reaches a test.
  rm -rf "$RUN_DIR"
  mkdir -p "$RUN_DIR"
  write_pki
  local pki=$RUN_DIR/pki

  log "starting etcd on 127.0.0.1:$ETCD_PORT"
  spawn etcd "$KUBE_DIR/etcd/usr/bin/etcd" --name coupon-test --data-dir "$RUN_DIR/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "coupon-test=http://127.0.0.1:$ETCD_PEER_PORT"
  await etcd 30 curl -sf -o /dev/null "http://127.0.0.1:$ETCD_PORT/health"
  log "etcd is ready"

  log "starting kube-apiserver on 127.0.0.1:$APISERVER_PORT"
  # No endpoint reconciler: it would publish this loopback address as the kubernetes Service's
  # endpoint and keep rewriting it; nothing here reaches the API through that Service.
  spawn kube-apiserver "$BIN_DIR/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$APISERVER_PORT" \
    --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
    --client-ca-file "$pki/ca.crt" \
    --token-auth-file "$pki/tokens.csv" --authorization-mode RBAC \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
    --service-cluster-ip-range 10.96.0.0/16 \
    --endpoint-reconciler-type none
  await kube-apiserver 120 kubectl_ get --raw /readyz
  log "kube-apiserver is ready ($(kubectl_ version -o json | sed -n 's/.*"gitVersion": "\(v[^"]*\)".*/\1/p' | tail -1))"

  log "starting kube-controller-manager and kube-scheduler"
  spawn kube-controller-manager "$BIN_DIR/kube-controller-manager" --kubeconfig "$KUBECONFIG_FILE" \
    --authentication-kubeconfig "$KUBECONFIG_FILE" --authorization-kubeconfig "$KUBECONFIG_FILE" \
    --bind-address 127.0.0.1 --secure-port "$CONTROLLER_MANAGER_PORT" --leader-elect=false \
    --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
    --controllers '*,-job-controller'
  spawn kube-scheduler "$BIN_DIR/kube-scheduler" --kubeconfig "$KUBECONFIG_FILE" \
    --authentication-kubeconfig "$KUBECONFIG_FILE" --authorization-kubeconfig "$KUBECONFIG_FILE" \
    --bind-address 127.0.0.1 --secure-port "$SCHEDULER_PORT" --leader-elect=false
  await kube-controller-manager 60 healthy "$CONTROLLER_MANAGER_PORT"
  await kube-scheduler 60 healthy "$SCHEDULER_PORT"
  # A namespace takes Pods only once the controller manager gave it its default ServiceAccount.
  await kube-controller-manager 60 kubectl_ -n default get serviceaccount default
  log "kube-controller-manager and kube-scheduler are ready"
}

stop() {
  local name
  for name in kube-scheduler kube-controller-manager kube-apiserver etcd; do
    stop_pidfile "$name" "$(pidfile "$name")"
  done
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  env) printf 'KUBECONFIG=%s\nKUBE_BIN=%s\n' "$KUBECONFIG_FILE" "$BIN_DIR" ;;
  *)
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
