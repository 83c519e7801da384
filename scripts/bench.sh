#!/usr/bin/env bash
# make bench: every benchmark, side by side (native, python reference, floors) in one run.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
ensure_venv
build_native
mkdir -p .benchmarks
"$VENV/bin/python" -m pytest benches -q -p no:cacheprovider --benchmark-only \
    --benchmark-columns=min,median,mean,stddev,rounds --benchmark-sort=name \
    --benchmark-json=.benchmarks/latest.json "$@"
"$VENV/bin/python" benches/report.py .benchmarks/latest.json
