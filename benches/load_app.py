"""The Django project `benches/load_test.py` serves under gunicorn: settings, URLs, app.

One module, configured by the environment the load test sets:
- `BENCH_VARIANT`: `no_middleware` (Session + Authentication only), `python` or
  `native` (the same stack plus `AuditMiddleware` with that engine);
- `BENCH_PROFILE`: `defaults` (SEC_AUDIT defaults: a 404 is logged, a 200 is not) or
  `capture` (`log_ok_responses` + `log_request_bodies`);
- `BENCH_AUDIT_LOG`: the file the audit lines go to (a `FileHandler` with the real
  formatter, given the cross-process write path at start-up like any project's), or
  `-` for a `StreamHandler` on stdout (the sidecar path: a pipe shared by the workers);
- `BENCH_COUNT_DIR`: where each worker writes how many requests it handled when it
  exits (gunicorn's `worker_exit` hook, `benches/load_gunicorn.py`), so the load test
  can check one audit line per logged request exactly.

Views: `GET /ok/` 200, `GET /items/<pk>/` raises Http404 (Django renders its 404),
`POST /submit/` reads nothing itself and answers 200.
"""

from __future__ import annotations

import os

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path

VARIANT = os.environ.get("BENCH_VARIANT", "native")
PROFILE = os.environ.get("BENCH_PROFILE", "defaults")
AUDIT_LOG = os.environ.get("BENCH_AUDIT_LOG", os.devnull)

SECRET_KEY = "load-test-only-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
ROOT_URLCONF = __name__
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
]
if VARIANT != "no_middleware":
    INSTALLED_APPS.insert(0, "sec_audit.django.apps.SecAuditConfig")
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
if VARIANT != "no_middleware":
    MIDDLEWARE.append("sec_audit.django.middleware.AuditMiddleware")
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"

SEC_AUDIT: dict[str, object] = {"core": {"source": "load-test"}}
if PROFILE == "capture":
    SEC_AUDIT["core"] = {
        "source": "load-test",
        "log_ok_responses": True,
        "log_request_bodies": True,
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"audit": {"()": "sec_audit.django.logging.formatters.audit_jsonl_formatter"}},
    "handlers": {
        "audit": (
            {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "audit"}
            if AUDIT_LOG == "-"
            else {"class": "logging.FileHandler", "filename": AUDIT_LOG, "formatter": "audit"}
        ),
    },
    "loggers": {
        "sec_audit.audit": {"level": "INFO", "propagate": False, "handlers": ["audit"]},
    },
}


def ok(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


def item(request: HttpRequest, pk: int) -> HttpResponse:
    raise Http404("no such item")


def submit(request: HttpRequest) -> HttpResponse:
    return HttpResponse("accepted")


urlpatterns = [
    path("ok/", ok),
    path("items/<int:pk>/", item),
    path("submit/", submit),
]

HANDLED = 0  # requests this worker process handled (read by the worker_exit hook)


def _application() -> object:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benches.load_app")
    if VARIANT in ("python", "native"):
        os.environ["SEC_AUDIT_ENGINE"] = VARIANT
    from django.core.wsgi import get_wsgi_application

    django_app = get_wsgi_application()

    def counted(environ: dict[str, object], start_response: object) -> object:
        global HANDLED
        HANDLED += 1
        return django_app(environ, start_response)  # type: ignore[arg-type]

    return counted


application = _application()
