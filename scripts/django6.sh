#!/usr/bin/env bash
# The Django integration suite on Django 6.x. Django 6 needs CPython >= 3.12, so this uses
# a separate venv (.venv-dj6) on the newest CPython >= 3.12 found (PATH or pyenv), with the
# same abi3 extension built by maturin.
set -euo pipefail
cd "$(dirname "$0")/.."
py=""
for cand in python3.13 python3.12 "$HOME"/.pyenv/versions/3.13*/bin/python3.13 "$HOME"/.pyenv/versions/3.12*/bin/python3.12; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys, ssl, sqlite3; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
        py=$(command -v "$cand"); break
    fi
done
if [ -z "$py" ]; then
    echo "FAILED: no CPython >= 3.12 on this machine; the Django 6 suite cannot run" >&2
    exit 1
fi
V=.venv-dj6
[ -x "$V/bin/python" ] || "$py" -m venv "$V"
stamp="$V/.deps-$(sha1sum requirements-dev.txt scripts/django6.sh | sha1sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
    "$V/bin/python" -m pip install -q --upgrade pip
    "$V/bin/python" -m pip install -q "django>=6.0,<6.2" "djangorestframework>=3.15" "django-auditlog>=3.0" \
        "pytest>=8" "pytest-django>=4.8" "hypothesis>=6.100" "pytest-benchmark>=4" "orjson>=3.10" "maturin>=1.5,<2"
    touch "$stamp"
fi
VIRTUAL_ENV="$PWD/$V" PATH="$PWD/$V/bin:$PATH" "$V/bin/maturin" develop --release --quiet
"$V/bin/python" -c 'import django, sys; print("Django", django.get_version(), "on Python", sys.version.split()[0])'
SEC_AUDIT_ENGINE=native "$V/bin/python" -m pytest -q -p no:cacheprovider tests/django
SEC_AUDIT_ENGINE=python "$V/bin/python" -m pytest -q -p no:cacheprovider tests/django
