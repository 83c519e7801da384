# Shared helpers for scripts/*.sh (sourced). Creates or reuses .venv and installs what it needs.
VENV="${VENV:-.venv}"
PYTHON_BIN="${PYTHON_BIN:-$(command -v python3.11 || command -v python3)}"

ensure_venv() {
    if [ ! -x "$VENV/bin/python" ]; then
        "$PYTHON_BIN" -m venv "$VENV"
    fi
    local stamp="$VENV/.deps-$(sha1sum requirements-dev.txt | cut -c1-12)"
    if [ ! -f "$stamp" ]; then
        "$VENV/bin/python" -m pip install -q --upgrade pip
        "$VENV/bin/python" -m pip install -q -r requirements-dev.txt
        touch "$stamp"
    fi
}

build_native() {
    # maturin develop: editable install of python/ plus the release-built extension,
    # with the test hooks (`_panic_for_tests`); release builds never enable them.
    VIRTUAL_ENV="$PWD/$VENV" PATH="$PWD/$VENV/bin:$PATH" \
        "$VENV/bin/maturin" develop --release --quiet --features test-hooks
}

ensure_release_tools() {
    # Release tooling (requirements-release.txt) into the same venv, installed on change.
    local stamp="$VENV/.release-$(sha1sum requirements-release.txt | cut -c1-12)"
    if [ ! -f "$stamp" ]; then
        "$VENV/bin/python" -m pip install -q -r requirements-release.txt
        touch "$stamp"
    fi
}
