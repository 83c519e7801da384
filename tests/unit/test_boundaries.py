"""The framework-free layers (sec_audit.core, sec_audit.logging) never import Django."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import sec_audit

PACKAGE_DIR = Path(sec_audit.__file__).resolve().parent
SOURCE_ROOT = PACKAGE_DIR.parent

# Core modules that must exist and import cleanly (never skipped).
REQUIRED_CORE = [
    "sec_audit.core",
    "sec_audit.core.errors",
    "sec_audit.core.config",
    "sec_audit.core.imports",
    "sec_audit.core.events",
    "sec_audit.core.context",
    "sec_audit.core.ip",
]

_PROBE = """
import importlib, json, pkgutil, sys

def fail(name):
    raise RuntimeError(f"cannot walk {name}")

imported = []
for name in REQUIRED:
    importlib.import_module(name)
    imported.append(name)
for root in ("sec_audit.core", "sec_audit.logging"):
    package = importlib.import_module(root)
    imported.append(root)
    for info in pkgutil.walk_packages(package.__path__, root + ".", onerror=fail):
        importlib.import_module(info.name)
        imported.append(info.name)
django = sorted(m for m in sys.modules if m == "django" or m.startswith("django."))
print(json.dumps({"imported": imported, "django": django}))
"""

_DJANGO_IMPORT = re.compile(
    r"^\s*(?:import\s+django\b|from\s+django\b)|import_module\(\s*['\"]django\b",
    re.MULTILINE,
)


def _probe() -> dict[str, list[str]]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SOURCE_ROOT), env.get("PYTHONPATH")]))
    script = f"REQUIRED = {REQUIRED_CORE!r}\n{_PROBE}"
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_importing_core_and_logging_does_not_import_django() -> None:
    report = _probe()
    assert set(REQUIRED_CORE) <= set(report["imported"])
    assert "sec_audit.logging" in report["imported"]
    assert report["django"] == []


def _sources() -> list[Path]:
    files: list[Path] = []
    for layer in ("core", "logging"):
        files.extend(sorted((PACKAGE_DIR / layer).rglob("*.py")))
    return files


def test_no_django_import_statement_in_core_or_logging_sources() -> None:
    files = _sources()
    names = {p.relative_to(PACKAGE_DIR).as_posix() for p in files}
    assert {"core/config.py", "core/events.py", "core/ip.py", "core/context.py"} <= names
    offenders = [
        f"{p.relative_to(PACKAGE_DIR)}: {m.group(0).strip()}"
        for p in files
        for m in _DJANGO_IMPORT.finditer(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_scanner_catches_django_imports() -> None:
    # Guards the guard: the pattern must see every form it is meant to catch.
    for text in (
        "import django\n",
        "    from django.conf import settings\n",
        "import django.http\n",
        "x = importlib.import_module('django.conf')\n",
    ):
        assert _DJANGO_IMPORT.search(text), text
    for text in ("import djangorestframework_stub\n", "# mentions django in prose\n"):
        assert not _DJANGO_IMPORT.search(text), text
