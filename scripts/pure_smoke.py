"""Smoke test of an installed artefact, run from a fresh venv.

Default (the pure wheel, scripts/pure_wheel_smoke.sh): the package imports without the
extension, the python engine is selected, forcing 'native' is a loud error.
With SMOKE_EXPECT=native (the native wheel or the sdist, scripts/release_matrix.sh): the
extension is there and the native engine is selected.
Both: a real Django request through the middleware and the real formatter produces a
scrubbed JSON line.
"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys

import sec_audit
from sec_audit.core.engine import EngineUnavailableError, active_engine_name, native_available

assert "site-packages" in sec_audit.__file__, sec_audit.__file__
EXPECT = os.environ.get("SMOKE_EXPECT", "python")
if EXPECT == "native":
    assert native_available(), "the native artefact must carry a loadable extension"
    assert active_engine_name() == "native", active_engine_name()
else:
    assert not native_available(), "the pure wheel must not carry the extension"
    assert active_engine_name() == "python", active_engine_name()

forced = subprocess.run(
    [
        sys.executable,
        "-c",
        "from sec_audit.core.engine import build_engine, EngineConfig;"
        "from sec_audit.core.config import SecAuditSettings as S; s = S.from_value(None);"
        "build_engine(EngineConfig.from_settings(s.core, s.logging.projection_limits))",
    ],
    env={**os.environ, "SEC_AUDIT_ENGINE": "native"},
    capture_output=True,
    text=True,
)
if EXPECT == "native":
    assert forced.returncode == 0, forced.stderr
else:
    assert forced.returncode != 0 and EngineUnavailableError.__name__ in forced.stderr, (
        forced.stderr
    )

from django.conf import settings  # noqa: E402

import django  # noqa: E402

settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["testserver"],
    SECRET_KEY="pure-wheel-smoke",
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[
        "sec_audit.django.apps.SecAuditConfig",
        "django.contrib.contenttypes",
        "django.contrib.auth",
        "django.contrib.sessions",
    ],
    MIDDLEWARE=[
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "sec_audit.django.middleware.AuditMiddleware",
    ],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    SEC_AUDIT={"core": {"source": "pure-smoke", "log_request_bodies": True}},
)
urlpatterns: list = []
django.setup()

from django.test import Client  # noqa: E402

from sec_audit.django.logging.formatters import audit_jsonl_formatter  # noqa: E402

stream = io.StringIO()
handler = logging.StreamHandler(stream)
handler.setFormatter(audit_jsonl_formatter())
audit = logging.getLogger("sec_audit.audit")
audit.addHandler(handler)
audit.setLevel(logging.INFO)
audit.propagate = False

resp = Client().post(
    "/nope/", data='{"user": "a", "password": "hunter2"}', content_type="application/json"
)
assert resp.status_code == 404
lines = stream.getvalue().splitlines()
assert len(lines) == 1, lines
line = json.loads(lines[0])
assert line["attributes"]["event_type"] == "http.response.client_error"
assert line["resource"] == {"service.name": "pure-smoke"}
assert "hunter2" not in lines[0]
print(f"smoke OK ({EXPECT} engine):", lines[0][:120], "...")
