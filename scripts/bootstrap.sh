#!/usr/bin/env bash
# Installs everything the project needs on a machine that has only Node, Java, Maven, Go, Python 3
# and apt: Debian packages for Redis, Sentinel and MariaDB, pnpm, the workspace's npm packages
# (including Node 24 itself, from the npm registry), the Kafka broker's jars from Maven Central,
# schemathesis from PyPI (for the API fuzz test), and, when called with --with-helm (./dev test), Helm
# and a Kubernetes control plane (built with Go from the module proxy) for the chart checks.
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

# Helm, for the chart checks in scripts/k8s (lint and template offline, install on the test's own API
# server): built from source with Go through the module proxy into .local/bin, once; later runs only
# read the binary's build info. Helm 4 built this way assumes the Kubernetes version of the client-go
# it was built with (1.37), where Helm 3 assumed 1.20.
helm_version=v4.3.2
helm_bin="$ROOT/.local/bin/helm"
if [ "${1:-}" = --with-helm ] && ! go version -m "$helm_bin" 2>/dev/null | grep -q "^[[:space:]]mod[[:space:]]helm.sh/helm/v4[[:space:]]$helm_version[[:space:]]"; then
  command -v go >/dev/null || die "Go is needed to build helm $helm_version"
  log "building helm $helm_version (go install, a few minutes the first time)"
  GOBIN="$ROOT/.local/bin" GOFLAGS=-buildvcs=false go install "helm.sh/helm/v4/cmd/helm@$helm_version" >&2
fi
# etcd and the Kubernetes control plane for the chart's install test (scripts/k8s/kube.sh): the
# binaries are built once into .local/kube/bin and rebuilt only when infra/kube changes.
if [ "${1:-}" = --with-helm ]; then
  "$ROOT/scripts/k8s/kube.sh" install
fi
"$ROOT/scripts/edge.sh" install

# schemathesis (PyPI), which fuzzes every service from its OpenAPI document in the tests: a venv in
# .local/schemathesis with the pinned set of infra/schemathesis/requirements.txt, rebuilt only when
# that file changed or the venv's Python is gone.
st_dir="$ROOT/.local/schemathesis"
st_requirements="$ROOT/infra/schemathesis/requirements.txt"
if ! cmp -s "$st_requirements" "$st_dir/installed-requirements.txt" || ! "$st_dir/bin/python" -c '' 2>/dev/null; then
  command -v python3 >/dev/null || die "Python 3 is needed for schemathesis"
  python3 -c 'import ensurepip, venv' 2>/dev/null || ensure_apt python3-venv
  log "installing schemathesis into .local/schemathesis (pip, from PyPI)"
  python3 -m venv --clear "$st_dir"
  "$st_dir/bin/pip" install --quiet --disable-pip-version-check --no-input -r "$st_requirements" >&2
  cp "$st_requirements" "$st_dir/installed-requirements.txt"
fi
log "bootstrap done (node $node_version, pnpm $pnpm_version)"
