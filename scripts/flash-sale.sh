#!/usr/bin/env bash
# Runs the flash-sale command against the local system that ./dev up started.
# usage: flash-sale.sh [--users N] [--stock M] [--concurrency C]
source "$(dirname "$0")/infra/lib.sh"

"$ROOT/scripts/services.sh" status >/dev/null 2>&1 || die "the local system is not running: ./dev up first"
cd "$ROOT"
ORIGIN="http://127.0.0.1:$EDGE_PORT" \
  ADMIN_EMAIL="${DEV_ADMIN_EMAIL:-admin@coupon.local}" ADMIN_PASSWORD="${DEV_ADMIN_PASSWORD:-coupon-admin}" \
  JWT_PRIVATE_KEY_FILE="$STATE_DIR/keys/signing.pem" \
  DATABASE_URL="mysql://coupon:coupon@127.0.0.1:$MARIADB_PORT/${DATABASE_NAME:-coupon}" \
  TOKEN_CACHE_DIR="$STATE_DIR/tokens" \
  exec "$(node_bin)" packages/loadgen/src/commands/flash-sale.ts "$@"
