#!/usr/bin/env bash
# Build the three release artefacts into dist/ (cleaned first):
#   - the abi3 native wheel for manylinux2014 x86_64 (glibc >= 2.17), linked with zig,
#   - the py3-none-any pure-Python wheel (scripts/build_pure_wheel.py),
#   - the sdist.
# Then check them (scripts/release_check.sh). `make release` runs this.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
ensure_venv
ensure_release_tools
rm -rf dist
mkdir -p dist
# maturin finds python-zig (from the ziglang package) on PATH.
VIRTUAL_ENV="$PWD/$VENV" PATH="$PWD/$VENV/bin:$PATH" \
    timeout 900 "$VENV/bin/maturin" build --release --zig --compatibility manylinux2014 -o dist --quiet
"$VENV/bin/python" scripts/build_pure_wheel.py dist >/dev/null
VIRTUAL_ENV="$PWD/$VENV" PATH="$PWD/$VENV/bin:$PATH" "$VENV/bin/maturin" sdist -o dist >/dev/null
ls -1 dist
if [ "${1:-}" != "--no-check" ]; then
    bash scripts/release_check.sh
fi
