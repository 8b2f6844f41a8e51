#!/usr/bin/env bash
# Runs bench/issue-path.ts against the local system that ./dev up started, with wrk (the generator,
# from Debian's packages) installed if missing.
# usage: bench/issue-path.sh original|saturation|ceiling|all [options]   (bench/README.md)
source "$(dirname "$0")/../scripts/infra/lib.sh"

"$ROOT/scripts/services.sh" status >/dev/null 2>&1 || die "the local system is not running: ./dev up first"
"$ROOT/scripts/edge.sh" status >/dev/null 2>&1 || die "the edge is not running: ./dev up first"
ensure_apt wrk redis-tools nginx
cd "$ROOT"
EDGE_ORIGIN="http://127.0.0.1:$EDGE_PORT" ISSUE_ORIGIN="http://127.0.0.1:$ISSUE_PORT" \
  USER_PORT="$USER_PORT" COUPON_PORT="$COUPON_PORT" \
  ADMIN_EMAIL="${DEV_ADMIN_EMAIL:-admin@coupon.local}" ADMIN_PASSWORD="${DEV_ADMIN_PASSWORD:-coupon-admin}" \
  JWT_PRIVATE_KEY_FILE="$STATE_DIR/keys/signing.pem" \
  JWT_JWKS_URL="http://127.0.0.1:$USER_PORT/.well-known/jwks.json" \
  DATABASE_URL="mysql://coupon:coupon@127.0.0.1:$MARIADB_PORT/${DATABASE_NAME:-coupon}" \
  REDIS_PORT="$REDIS_PORT" STATE_DIR="$STATE_DIR" TOKEN_CACHE_DIR="$STATE_DIR/tokens" \
  exec "$(node_bin)" bench/issue-path.ts "$@"
