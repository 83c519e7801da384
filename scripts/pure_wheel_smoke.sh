#!/usr/bin/env bash
# Build the py3-none-any wheel, install it into a fresh venv with Django only, and check
# that the package works fully from it on the Python engine (and refuses 'native' loudly).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
out=$(mktemp -d)
"$VENV/bin/python" scripts/build_pure_wheel.py "$out" >/dev/null
whl=$(ls "$out"/*.whl)
pure="$out/venv"
"$PYTHON_BIN" -m venv "$pure"
"$pure/bin/python" -m pip install -q "$whl" "django>=5.2,<6.0"
cd "$out"
"$pure/bin/python" "$OLDPWD/scripts/pure_smoke.py"
rm -rf "$out"
