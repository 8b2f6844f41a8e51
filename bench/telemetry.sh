#!/usr/bin/env bash
# What tracing costs the issue path: the local system's issue service (telemetry off) against a
# second one of the same working tree that exports every span to the local Jaeger (telemetry on,
# every request sampled), in alternating rounds of the closed loop (issue-path.ts compare).
# usage: bench/telemetry.sh [--rounds 6] [--duration 10] [other issue-path.ts options]
source "$(dirname "$0")/../scripts/infra/lib.sh"

"$ROOT/scripts/services.sh" status >/dev/null 2>&1 || die "the local system is not running: ./dev up first"
issue_pid=$(cat "$STATE_DIR/services/issue.pid")
if tr '\0' '\n' <"/proc/$issue_pid/environ" | grep -q '^OTEL_EXPORTER_OTLP_ENDPOINT='; then
  die "the local issue service exports spans (./dev up --tracing): restart it without, ./dev down && ./dev up"
fi
"$ROOT/scripts/infra/jaeger.sh" start
trap '"$ROOT/bench/baseline.sh" stop' EXIT
BASELINE_TRACING=1 "$ROOT/bench/baseline.sh" start "$ROOT"
"$ROOT/bench/issue-path.sh" compare --as telemetry --label telemetry --rounds 6 --duration 10 "$@"
