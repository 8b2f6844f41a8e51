#!/usr/bin/env bash
# Installs everything the project needs on a machine that has only Node, Java, Maven, Go and apt:
# Debian packages for Redis, Sentinel and MariaDB, pnpm, the workspace's npm packages (including
# Node 24 itself, from the npm registry), the Kafka broker's jars from Maven Central, and Helm (built
# with Go from the module proxy) for the chart checks when called with --with-helm (./dev test).
# Idempotent: a second run only checks.
source "$(dirname "$0")/infra/lib.sh"
cd "$ROOT"

ensure_apt curl ca-certificates procps

pnpm_version=$(sed -n 's/.*"packageManager": "pnpm@\([^"]*\)".*/\1/p' package.json)
if [ "$(pnpm --version 2>/dev/null)" != "$pnpm_version" ]; then
  log "installing pnpm $pnpm_version"
  npm install --global --no-fund --no-audit "pnpm@$pnpm_version" >&2
fi

if [ "${CI:-}" = true ]; then
  pnpm install --frozen-lockfile --reporter=append-only >&2
else
  pnpm install --reporter=append-only >&2
fi

node_version=$("$ROOT/node_modules/.bin/node" --version)
case "$node_version" in
  v24.*) ;;
  *) die "expected Node 24 in node_modules/.bin, found $node_version" ;;
esac

"$ROOT/scripts/infra/infra.sh" install

# Helm, for the chart checks in scripts/k8s (helm lint and helm template, offline): built from source
# with Go through the module proxy into .local/bin, once; later runs only read the binary's build info.
helm_version=v3.22.0
helm_bin="$ROOT/.local/bin/helm"
if [ "${1:-}" = --with-helm ] && ! go version -m "$helm_bin" 2>/dev/null | grep -q "^[[:space:]]mod[[:space:]]helm.sh/helm/v3[[:space:]]$helm_version[[:space:]]"; then
  command -v go >/dev/null || die "Go is needed to build helm $helm_version"
  log "building helm $helm_version (go install, a few minutes the first time)"
  GOBIN="$ROOT/.local/bin" GOFLAGS=-buildvcs=false go install "helm.sh/helm/v3/cmd/helm@$helm_version" >&2
fi
"$ROOT/scripts/edge.sh" install
log "bootstrap done (node $node_version, pnpm $pnpm_version)"
