#!/usr/bin/env bash
# What tracing costs the issue path: the local system's issue service (telemetry off) against a
# second one of the same working tree that exports its spans to the local Jaeger (telemetry on),
# in alternating rounds of the closed loop (issue-path.ts compare). The traced one samples as the
# chart does by default (telemetry.sampleRatio) unless OTEL_TRACES_SAMPLER says otherwise, e.g.
# OTEL_TRACES_SAMPLER=always_on for every request.
# usage: bench/telemetry.sh [--rounds 6] [--duration 10] [other issue-path.ts options]
source "$(dirname "$0")/../scripts/infra/lib.sh"

"$ROOT/scripts/services.sh" status >/dev/null 2>&1 || die "the local system is not running: ./dev up first"
issue_pid=$(cat "$STATE_DIR/services/issue.pid")
if tr '\0' '\n' <"/proc/$issue_pid/environ" | grep -q '^OTEL_EXPORTER_OTLP_ENDPOINT='; then
  die "the local issue service exports spans (./dev up --tracing): restart it without, ./dev down && ./dev up"
fi
"$ROOT/scripts/infra/jaeger.sh" start
if [ -z "${OTEL_TRACES_SAMPLER:-}" ]; then
  ratio=$(sed -n 's/^  sampleRatio: *//p' "$ROOT/charts/coupon-platform/values.yaml")
  [ -n "$ratio" ] || die "no telemetry.sampleRatio in charts/coupon-platform/values.yaml"
  export OTEL_TRACES_SAMPLER=parentbased_traceidratio OTEL_TRACES_SAMPLER_ARG=$ratio
fi
log "traced issue service: OTEL_TRACES_SAMPLER=$OTEL_TRACES_SAMPLER${OTEL_TRACES_SAMPLER_ARG:+ OTEL_TRACES_SAMPLER_ARG=$OTEL_TRACES_SAMPLER_ARG}"
trap '"$ROOT/bench/baseline.sh" stop' EXIT
BASELINE_TRACING=1 "$ROOT/bench/baseline.sh" start "$ROOT"
"$ROOT/bench/issue-path.sh" compare --as telemetry \
  --label "telemetry-$OTEL_TRACES_SAMPLER${OTEL_TRACES_SAMPLER_ARG:+-$OTEL_TRACES_SAMPLER_ARG}" --rounds 6 --duration 10 "$@"
