#!/usr/bin/env bash
# Installs everything the project needs on a machine that has only Node, Java, Maven and apt:
# Debian packages for Redis, Sentinel and MariaDB, pnpm, the workspace's npm packages (including
# Node 24 itself, from the npm registry) and the Kafka broker's jars from Maven Central.
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
"$ROOT/scripts/edge.sh" install
log "bootstrap done (node $node_version, pnpm $pnpm_version)"
