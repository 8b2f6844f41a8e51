#!/usr/bin/env bash
# Runs the flash-sale command against the local system, bringing it up first when it is not
# running (./dev up does the same; both are idempotent), so one command runs the main job.
# usage: flash-sale.sh [--users N] [--stock M] [--concurrency C]
source "$(dirname "$0")/infra/lib.sh"

if ! { "$ROOT/scripts/services.sh" status && "$ROOT/scripts/edge.sh" status; } >/dev/null 2>&1; then
  log "the local system is not running: bringing it up (./dev up)"
  "$ROOT/dev" up >&2
fi
cd "$ROOT"
ORIGIN="http://127.0.0.1:$EDGE_PORT" \
  ADMIN_EMAIL="${DEV_ADMIN_EMAIL:-admin@coupon.local}" ADMIN_PASSWORD="${DEV_ADMIN_PASSWORD:-coupon-admin}" \
  JWT_PRIVATE_KEY_FILE="$STATE_DIR/keys/signing.pem" \
  DATABASE_URL="mysql://coupon:coupon@127.0.0.1:$MARIADB_PORT/${DATABASE_NAME:-coupon}" \
  TOKEN_CACHE_DIR="$STATE_DIR/tokens" \
  exec "$(node_bin)" packages/loadgen/src/commands/flash-sale.ts "$@"
