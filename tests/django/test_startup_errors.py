"""A bad SEC_AUDIT through the real entry points: the last line names the key (issue 11.1).

Each case runs a fresh interpreter on a throw-away project whose LOGGING uses the audit
formatter, as docs/django.md sets it up: the formatter is built while LOGGING is
configured, before the apps are ready, and must not turn the error into logging's
`ValueError: Unable to configure formatter ...`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SETTINGS = """
SECRET_KEY = "startup-tests-only"
DEBUG = False
ALLOWED_HOSTS = ["testserver"]
USE_TZ = True
INSTALLED_APPS = {apps!r}
MIDDLEWARE = ["sec_audit.django.middleware.AuditMiddleware"]
ROOT_URLCONF = "proj_urls"
DATABASES = {{}}
SEC_AUDIT = {sec_audit!r}
LOGGING = {{
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {{
        "audit_jsonl": {{"()": "sec_audit.django.logging.formatters.audit_jsonl_formatter"}},
    }},
    "handlers": {{
        "audit_console": {{"class": "logging.StreamHandler", "formatter": "audit_jsonl",
                           "stream": "ext://sys.stdout"}},
    }},
    "loggers": {{
        "sec_audit.audit": {{"handlers": ["audit_console"], "level": "INFO", "propagate": False}},
    }},
}}
"""

MANAGE = """
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj_settings")
from django.core.management import execute_from_command_line
execute_from_command_line(sys.argv)
"""

SCRIPT = """
import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj_settings")
import django
django.setup()
print("setup finished")
"""

WSGI = """
import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj_settings")
from django.core.wsgi import get_wsgi_application
application = get_wsgi_application()
"""

ASGI = """
import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj_settings")
from django.core.asgi import get_asgi_application
application = get_asgi_application()
"""

APP = "sec_audit.django.apps.SecAuditConfig"
BAD = {"core": {"log_ok_response": True}}


def _project(tmp_path: Path, sec_audit: object, apps: list[str]) -> Path:
    (tmp_path / "proj_settings.py").write_text(SETTINGS.format(apps=apps, sec_audit=sec_audit))
    (tmp_path / "proj_urls.py").write_text("urlpatterns = []\n")
    (tmp_path / "manage.py").write_text(MANAGE)
    (tmp_path / "script.py").write_text(SCRIPT)
    (tmp_path / "proj_wsgi.py").write_text(WSGI)
    (tmp_path / "proj_asgi.py").write_text(ASGI)
    return tmp_path


def _run(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = os.pathsep.join([str(project), str(ROOT / "python")])
    return subprocess.run(
        [sys.executable, *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _assert_names_the_key(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode != 0
    last = _last_line(result.stderr)
    assert last.startswith("django.core.exceptions.ImproperlyConfigured: "), result.stderr
    assert "SEC_AUDIT['core']['log_ok_response']" in last  # the exact key
    assert "did you mean 'log_ok_responses'" in last
    assert "Unable to configure formatter" not in result.stderr
    # Raised `from None`: one traceback, not a chain.
    assert "direct cause" not in result.stderr
    assert "During handling" not in result.stderr


@pytest.mark.parametrize("entry", [("manage.py", "check"), ("script.py",)], ids=["check", "setup"])
def test_bad_setting_ends_in_improperly_configured(tmp_path: Path, entry: tuple[str, ...]) -> None:
    project = _project(tmp_path, BAD, [APP, "django.contrib.contenttypes"])
    _assert_names_the_key(_run(project, *entry))


def test_bad_setting_under_gunicorn_ends_in_improperly_configured(tmp_path: Path) -> None:
    # `--check-config` loads the application the way a worker boots it, in one process
    # (a real worker then adds gunicorn's own "Worker failed to boot" line).
    pytest.importorskip("gunicorn")
    project = _project(tmp_path, BAD, [APP])
    _assert_names_the_key(
        _run(project, "-m", "gunicorn", "--check-config", "proj_wsgi:application")
    )


def test_bad_setting_under_gunicorn_workers_ends_each_traceback(tmp_path: Path) -> None:
    # Real workers (as a user starts them): each worker's traceback ends in the one
    # readable line; gunicorn's master then adds its own "Worker failed to boot".
    pytest.importorskip("gunicorn")
    project = _project(tmp_path, BAD, [APP])
    result = _run(
        project, "-m", "gunicorn", "-w", "2", "-b", "127.0.0.1:0", "proj_wsgi:application"
    )
    assert result.returncode != 0
    # Every exception line but gunicorn's own (its master may add a HaltServer
    # traceback) is ours: a chained cause or logging's ValueError would show here too.
    raised = [
        line
        for line in result.stderr.splitlines()
        if re.match(r"^[A-Za-z_][\w.]*: ", line) and not line.startswith("gunicorn.")
    ]
    assert raised, result.stderr
    for line in raised:
        assert line.startswith("django.core.exceptions.ImproperlyConfigured: "), line
        assert "SEC_AUDIT['core']['log_ok_response']: did you mean 'log_ok_responses'" in line
    assert "Worker failed to boot" in _last_line(result.stderr)
    assert "Unable to configure formatter" not in result.stderr


# uvicorn imports the application before it binds: a bad SEC_AUDIT ends the process
# there, so the loopback address and port 0 are never served.
UVICORN = ("-m", "uvicorn", "--host", "127.0.0.1", "--port", "0", "--lifespan", "off")


def test_bad_setting_under_uvicorn_ends_in_improperly_configured(tmp_path: Path) -> None:
    pytest.importorskip("uvicorn")
    project = _project(tmp_path, BAD, [APP])
    _assert_names_the_key(_run(project, *UVICORN, "proj_asgi:application"))


def test_without_the_app_uvicorn_stops_at_the_middleware_naming_the_key(tmp_path: Path) -> None:
    # The ASGI handler loads the middleware when the application object is built.
    pytest.importorskip("uvicorn")
    project = _project(tmp_path, BAD, ["django.contrib.contenttypes"])
    _assert_names_the_key(_run(project, *UVICORN, "proj_asgi:application"))


def test_good_setting_starts(tmp_path: Path) -> None:
    project = _project(tmp_path, {"core": {"log_ok_responses": True}}, [APP])
    result = _run(project, "script.py")
    assert result.returncode == 0, result.stderr
    assert "setup finished" in result.stdout


WITHOUT_APP = """
import logging, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj_settings")
import django
django.setup()
from sec_audit.core.events import AuditEvent
from sec_audit.logging.emission import emit_event
print("setup finished", flush=True)
logging.getLogger("sec_audit.audit").info("not an event")
"""


def test_without_the_app_the_first_record_reports_the_key(tmp_path: Path) -> None:
    # The formatter cannot stop start-up without the app; it reports on the first
    # record and writes no line rendered with settings the project did not ask for.
    project = _project(tmp_path, BAD, ["django.contrib.contenttypes"])
    (project / "noapp.py").write_text(WITHOUT_APP)
    result = _run(project, "noapp.py")
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    assert out[0] == "setup finished"
    assert '"audit.logging.malformed_record"' in out[1]
    assert "SEC_AUDIT['core']" in result.stderr and "log_ok_response" in result.stderr
    assert "audit.settings_invalid" in result.stderr or "SEC_AUDIT is invalid" in result.stderr


def test_without_the_app_the_middleware_stops_start_up_naming_the_key(tmp_path: Path) -> None:
    # The WSGI handler loads the middleware at start-up (gunicorn, uwsgi, runserver).
    pytest.importorskip("gunicorn")
    project = _project(tmp_path, BAD, ["django.contrib.contenttypes"])
    _assert_names_the_key(
        _run(project, "-m", "gunicorn", "--check-config", "proj_wsgi:application")
    )
