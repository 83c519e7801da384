#!/usr/bin/env bash
# make demo: build everything, then run the demo service under gunicorn with generated
# traffic; the audit lines it emits are printed to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
ensure_venv >&2
build_native >&2
exec "$VENV/bin/python" demo/run.py "$@"
