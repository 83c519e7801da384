"""Settings of the demo service: a small shop API audited by django-sec-audit.

Configured as the README's Quick Start, plus what a security team would switch on:
2xx auditing, JSON body capture on the API, usernames, session correlation, and the
local reverse proxy (loopback) trusted for one hop of X-Forwarded-For.
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DEMO_SECRET_KEY", "demo-only-not-a-secret")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = [
    "sec_audit.django.apps.SecAuditConfig",  # early, before the project's apps
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "rest_framework",
    "auditlog",
    "shop",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    "sec_audit.django.middleware.AuditMiddleware",  # last or near-last
]

ROOT_URLCONF = "demo_project.urls"
WSGI_APPLICATION = "demo_project.wsgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DEMO_DB", str(BASE_DIR / "demo.sqlite3")),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.BasicAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "UNAUTHENTICATED_USER": None,
}

SEC_AUDIT = {
    "core": {
        "source": "demo-shop",
        "log_ok_responses": True,
        "sample_rate": 1.0,
        "log_request_bodies": True,
        "log_body_paths": (r"^/api/",),
        "ignore_paths": (r"^/health/",),
        "sensitive_value_patterns": (r"\b[A-Za-z0-9-_=]{40,}\b",),
    },
    "logging": {"schema_version": "1.0"},
    "django": {
        "include_usernames": True,
        "emit_session_id": True,
        "trusted_proxy_cidrs": ("127.0.0.0/8",),
        "trusted_proxy_count": 1,
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "audit_jsonl": {"()": "sec_audit.django.logging.formatters.audit_jsonl_formatter"},
        "plain": {"format": "%(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {
        "audit_stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "audit_jsonl",
        },
        "diagnostics": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "loggers": {
        "sec_audit.audit": {"handlers": ["audit_stdout"], "level": "INFO", "propagate": False},
        "sec_audit.internal": {"handlers": ["diagnostics"], "level": "WARNING", "propagate": False},
    },
}
