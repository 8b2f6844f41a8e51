#!/usr/bin/env bash
# Sets up the coupon platform's infrastructure on a local kind cluster, then (optionally) the app:
#   k8s-dev/install.sh            cluster + Envoy Gateway + Strimzi/Kafka + Redis Sentinel + MariaDB + Secrets
#   k8s-dev/install.sh --app      the same, then builds the four images, loads them into kind and
#                                 `helm upgrade --install`s the chart (what skaffold dev / tilt up do, once)
# Needs docker, kind, kubectl, helm and openssl. Idempotent: a second run only upgrades.
set -euo pipefail
cd "$(dirname "$0")/.."

CLUSTER=${CLUSTER:-coupon}
APP_NAMESPACE=${APP_NAMESPACE:-coupon}
INFRA_NAMESPACE=coupon-infra
# Versions (see README "Kubernetes" for why these).
ENVOY_GATEWAY_VERSION=v1.9.1
STRIMZI_VERSION=1.1.0
REDIS_CHART_VERSION=22.0.3

log() { printf '[k8s-dev] %s\n' "$*" >&2; }

for tool in docker kind kubectl helm openssl; do
  command -v "$tool" >/dev/null || { log "missing $tool"; exit 1; }
done

if ! kind get clusters | grep -qx "$CLUSTER"; then
  log "creating kind cluster $CLUSTER"
  kind create cluster --config k8s-dev/kind-config.yaml --name "$CLUSTER"
fi
kubectl config use-context "kind-$CLUSTER" >/dev/null

log "Envoy Gateway $ENVOY_GATEWAY_VERSION (with the Gateway API CRDs)"
helm upgrade --install eg oci://docker.io/envoyproxy/gateway-helm --version "$ENVOY_GATEWAY_VERSION" \
  --namespace envoy-gateway-system --create-namespace --wait --timeout 5m
kubectl apply -f k8s-dev/gatewayclass.yaml

kubectl create namespace "$INFRA_NAMESPACE" --dry-run=client -o yaml | kubectl apply -f -
kubectl create namespace "$APP_NAMESPACE" --dry-run=client -o yaml | kubectl apply -f -

log "Strimzi $STRIMZI_VERSION and Kafka"
helm upgrade --install strimzi oci://quay.io/strimzi-helm/strimzi-kafka-operator --version "$STRIMZI_VERSION" \
  --namespace "$INFRA_NAMESPACE" --wait --timeout 5m
kubectl apply -f k8s-dev/kafka.yaml

# Passwords are generated once and kept in Secrets; the app gets its own copies in its namespace.
secret_value() { # namespace secret key
  kubectl -n "$1" get secret "$2" -o "jsonpath={.data.$3}" 2>/dev/null | base64 -d
}
random() { openssl rand -hex 16; }

redis_password=$(secret_value "$INFRA_NAMESPACE" redis-auth redis-password || true)
[ -n "$redis_password" ] || redis_password=$(random)
kubectl -n "$INFRA_NAMESPACE" create secret generic redis-auth --from-literal=redis-password="$redis_password" \
  --dry-run=client -o yaml | kubectl apply -f -

log "Redis with Sentinel (Bitnami chart $REDIS_CHART_VERSION)"
helm upgrade --install redis oci://registry-1.docker.io/bitnamicharts/redis --version "$REDIS_CHART_VERSION" \
  --namespace "$INFRA_NAMESPACE" -f k8s-dev/redis-values.yaml --wait --timeout 10m

db_password=$(secret_value "$INFRA_NAMESPACE" mariadb password || true)
[ -n "$db_password" ] || db_password=$(random)
db_root_password=$(secret_value "$INFRA_NAMESPACE" mariadb root-password || true)
[ -n "$db_root_password" ] || db_root_password=$(random)
kubectl -n "$INFRA_NAMESPACE" create secret generic mariadb \
  --from-literal=password="$db_password" --from-literal=root-password="$db_root_password" \
  --dry-run=client -o yaml | kubectl apply -f -
log "MariaDB"
kubectl apply -f k8s-dev/mariadb.yaml

log "Secrets of the app in namespace $APP_NAMESPACE"
kubectl -n "$APP_NAMESPACE" create secret generic coupon-database \
  --from-literal=url="mysql://coupon:$db_password@mariadb.$INFRA_NAMESPACE.svc.cluster.local:3306/coupon" \
  --dry-run=client -o yaml | kubectl apply -f -
kubectl -n "$APP_NAMESPACE" create secret generic coupon-redis --from-literal=redis-password="$redis_password" \
  --dry-run=client -o yaml | kubectl apply -f -
if ! kubectl -n "$APP_NAMESPACE" get secret coupon-jwt-signing-key >/dev/null 2>&1; then
  key_file=$(mktemp)
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$key_file" 2>/dev/null
  kubectl -n "$APP_NAMESPACE" create secret generic coupon-jwt-signing-key --from-file=private.pem="$key_file"
  rm -f "$key_file"
fi

log "waiting for Kafka and MariaDB"
kubectl -n "$INFRA_NAMESPACE" wait kafka/coupon-kafka --for=condition=Ready --timeout=10m
kubectl -n "$INFRA_NAMESPACE" rollout status statefulset/mariadb --timeout=5m

if [ "${1:-}" = --app ]; then
  for service in user coupon issue issue-consumer; do
    log "building coupon-$service:dev"
    docker build --build-arg SERVICE="$service" -t "coupon-$service:dev" .
    kind load docker-image "coupon-$service:dev" --name "$CLUSTER"
  done
  helm upgrade --install coupon-platform charts/coupon-platform --namespace "$APP_NAMESPACE" \
    -f k8s-dev/values-kind.yaml --wait --timeout 10m
  log "API: kubectl -n envoy-gateway-system port-forward service/coupon-gateway 8080:80"
else
  log "infrastructure ready; now run: skaffold dev   (or: tilt up)"
fi
