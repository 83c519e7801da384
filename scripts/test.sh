#!/usr/bin/env bash
# The one test command (README "make test", .ci/run): builds, lints, and runs every suite.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

step() { printf '\n==> %s\n' "$*"; }

step "python environment ($VENV)"
ensure_venv

step "services the integration tests need (rsyslog, loopback only)"
bash scripts/ensure_services.sh

step "cargo test (pure-Rust engine core)"
cargo test -q -p sec-audit-engine

step "cargo clippy -D warnings (all features: the test hooks too)"
cargo clippy -q --workspace --all-targets --all-features -- -D warnings

step "build the native extension (release)"
build_native

step "ruff"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check python tests benches demo scripts  # not the docs' snippets

step "mypy (the package is typed: py.typed)"
"$VENV/bin/mypy"

step "mypy.stubtest: python/sec_audit/_native.pyi against the built extension"
"$VENV/bin/python" -m mypy.stubtest sec_audit._native

step "pytest, native engine"
# The native run must really run natively: fail loudly if the extension cannot load.
"$VENV/bin/python" -c 'import sec_audit._native as n; from sec_audit.core.engine import active_engine_name as a; import os; os.environ["SEC_AUDIT_ENGINE"] = "native"; print("native engine:", n.__file__, "->", a())'
SEC_AUDIT_ENGINE=native "$VENV/bin/python" -m pytest -q -p no:cacheprovider tests

step "parity corpus and reference counts under the debug allocator (PYTHONMALLOC=debug)"
# orjson's habit: CPython's allocator debug hooks catch a buffer overrun, a double free
# or an object API call without the GIL in the extension. The corpus and the refcount
# tests cover every type and error path in under a minute (hypothesis ran above).
PYTHONMALLOC=debug SEC_AUDIT_ENGINE=native "$VENV/bin/python" -m pytest -q -p no:cacheprovider \
    tests/parity/test_corpus.py tests/unit/test_refcounts.py

step "pytest, python reference engine"
# tests/parity compares both engines explicitly whatever SEC_AUDIT_ENGINE says, so it
# ran in full above; everything else runs again with the Python engine as the default.
SEC_AUDIT_ENGINE=python "$VENV/bin/python" -m pytest -q -p no:cacheprovider tests --ignore=tests/parity

step "pure-Python wheel in a fresh venv"
bash scripts/pure_wheel_smoke.sh

step "release artefacts: build + check + abi3 on 3.10/3.13 + pure on 3.10 + sdist; workflow lint"
# docs/release.md. dist/ is rebuilt from clean (manylinux2014 abi3 wheel, pure wheel, sdist).
bash scripts/release.sh
bash scripts/release_matrix.sh
bash scripts/lint_workflows.sh

step "Django 6 (needs CPython >= 3.12)"
bash scripts/django6.sh

step "demo, short mode"
"$VENV/bin/python" demo/run.py --short >/dev/null

echo
echo "all test suites passed"
