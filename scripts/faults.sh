#!/usr/bin/env bash
# The fault suite (tests/system/faults/run.ts) on an instance of its own: installs what is missing,
# runs every case (or those named with --case), writes .local/faults/report.md and report.json,
# and stops everything it started.
# usage: faults.sh [--case NAME]... [--scale F] [--out DIR]
source "$(dirname "$0")/infra/lib.sh"

"$ROOT/scripts/bootstrap.sh"
cd "$ROOT"
export INFRA_INSTANCE=faults INFRA_PORT_BASE=${FAULTS_PORT_BASE:-12000}
FAULTS_PORT_BASE=$INFRA_PORT_BASE exec "$(node_bin)" tests/system/faults/run.ts "$@"
