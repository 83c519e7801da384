#!/usr/bin/env bash
# The abi3 promise, tested on the artefacts in dist/ (scripts/release.sh builds them):
#   - the manylinux2014 abi3 wheel installed into fresh venvs of CPython 3.10 (the floor,
#     Django 5.2) and the newest CPython on the machine (Django 6), running on each, against
#     the INSTALLED package (a copy of tests/ outside the repo, so ./python is not on
#     sys.path):
#       tests/django                  the whole Django integration suite (DRF, auditlog)
#       tests/parity/test_corpus.py   both engines over the whole parity corpus
#       tests/unit/test_golden.py     golden output lines byte for byte
#     (not the generated parity examples, ~2-4 min each: they run in `make test` on 3.11)
#   - the pure wheel on CPython 3.10 (scripts/pure_wheel_smoke.sh),
#   - the sdist installed with pip into a fresh venv (the extension built from source by
#     cargo; crates.io must be reachable) and the smoke test on the native engine.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
. scripts/env.sh
fail() { echo "release matrix FAILED: $*" >&2; exit 1; }

PYROOT=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
find_py() {  # find_py MAJOR.MINOR -> path of a working CPython of that version
    local c
    for c in "$(command -v "python$1" || true)" "$PYROOT"/versions/"$1".*/bin/python"$1"; do
        if [ -n "$c" ] && [ -x "$c" ] && "$c" -c 'import ssl, sqlite3' 2>/dev/null; then
            echo "$c"; return 0
        fi
    done
    return 1
}
py_floor=$(find_py 3.10) || fail "no CPython 3.10 on this machine (pyenv versions)"
py_new=""
for v in 3.14 3.13 3.12; do py_new=$(find_py "$v") && break; done
[ -n "$py_new" ] || fail "no CPython >= 3.12 on this machine"

shopt -s nullglob
native=(dist/*-cp310-abi3-*manylinux*_x86_64.whl)
sdist=(dist/*.tar.gz)
[ ${#native[@]} -eq 1 ] && [ ${#sdist[@]} -eq 1 ] || fail "run scripts/release.sh first (dist/ incomplete)"
whl="$ROOT/${native[0]}"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A copy of the tests outside the repo; the pytest settings of pyproject.toml without its
# pythonpath = ["python", "."] (only "." so `tests.django.settings` imports).
cp -r tests "$work/tests"
find "$work/tests" -name __pycache__ -prune -exec rm -rf {} +
cat >"$work/pytest.ini" <<'INI'
[pytest]
DJANGO_SETTINGS_MODULE = tests.django.settings
pythonpath = .
python_files = test_*.py
addopts = -ra --strict-markers -p no:cacheprovider
markers =
    native_only: needs the compiled engine
INI
SUBSET=(tests/django tests/parity/test_corpus.py tests/unit/test_golden.py)
TEST_DEPS=("pytest>=8" "pytest-django>=4.8" "hypothesis>=6.100" "djangorestframework>=3.15"
           "django-auditlog>=3.0" "orjson>=3.10" "gunicorn>=22" "uvicorn>=0.30")

run_wheel_on() {  # run_wheel_on PYTHON DJANGO_SPEC
    local py=$1 dj=$2 v
    v="$work/venv-$("$py" -c 'import sys; print("%d%d" % sys.version_info[:2])')"
    "$py" -m venv "$v"
    "$v/bin/python" -m pip install -q --disable-pip-version-check "$whl" "$dj" "${TEST_DEPS[@]}"
    (
        cd "$work"
        "$v/bin/python" - <<'PY'
import sys, django, sec_audit, sec_audit._native as n
from sec_audit.core.engine import active_engine_name
assert "site-packages" in sec_audit.__file__ and "site-packages" in n.__file__, (sec_audit.__file__, n.__file__)
assert active_engine_name() == "native", active_engine_name()
print(f"  CPython {sys.version.split()[0]}, Django {django.get_version()}: {n.__file__}")
PY
        SEC_AUDIT_ENGINE=native timeout 600 "$v/bin/python" -m pytest -q "${SUBSET[@]}" | tail -n 2
    )
}

echo "-- native wheel on CPython 3.10 (Django 5.2)"
run_wheel_on "$py_floor" "django>=5.2,<6.0"
echo "-- native wheel on $("$py_new" -V) (Django 6)"
run_wheel_on "$py_new" "django>=6.0,<6.2"

echo "-- pure wheel on CPython 3.10"
PYTHON_BIN="$py_floor" bash scripts/pure_wheel_smoke.sh

echo "-- sdist: pip builds the extension from source into a fresh venv"
sv="$work/venv-sdist"
"$PYTHON_BIN" -m venv "$sv"
timeout 900 "$sv/bin/python" -m pip install -q --disable-pip-version-check "$ROOT/${sdist[0]}"
(cd "$work" && SMOKE_EXPECT=native "$sv/bin/python" "$ROOT/scripts/pure_smoke.py")
echo "release matrix OK"
