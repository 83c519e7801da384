#!/usr/bin/env bash
# make bench: every benchmark, side by side (native, python reference, floors) in one run,
# then the two middleware tables of docs/performance.md: the interleaved Django test
# Client table (benches/test_django_bench.py) and the gunicorn + wrk load test
# (benches/load_test.py; installs wrk from Debian when it is missing).
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
echo
echo "== Django middleware overhead, interleaved (test Client) =="
"$VENV/bin/python" benches/test_django_bench.py
echo
echo "== gunicorn + wrk load test =="
"$VENV/bin/python" benches/load_test.py --attribute
