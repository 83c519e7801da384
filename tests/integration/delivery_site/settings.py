"""Settings for the gunicorn delivery tests; the audit handler comes from the environment.

DELIVERY_PATH: 'stdout' (StreamHandler on stdout, the docs' recipe) or 'rotating'
(RotatingFileHandler on DELIVERY_FILE with DELIVERY_MAX_BYTES / DELIVERY_BACKUPS) or
'rotating-plain' (the same, left as the stdlib writes: the control, see plain.py) or
'timed' (TimedRotatingFileHandler on DELIVERY_FILE, every second) or 'otlp'
(OtlpLogHandler to DELIVERY_OTLP_ENDPOINT).
"""

from __future__ import annotations

import os
from typing import Any

SECRET_KEY = "tests-only-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "tests.integration.delivery_site.urls"
INSTALLED_APPS = ["sec_audit.django.apps.SecAuditConfig"]
MIDDLEWARE = ["sec_audit.django.middleware.AuditMiddleware"]
DATABASES: dict[str, Any] = {}
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

SEC_AUDIT = {
    "core": {
        "source": "delivery-test",
        "log_request_bodies": True,
        "max_body_bytes": 64 * 1024,
    }
}

_path = os.environ.get("DELIVERY_PATH", "stdout")
if _path in ("rotating", "rotating-plain"):
    _audit: dict[str, Any] = {
        "class": "logging.handlers.RotatingFileHandler"
        if _path == "rotating"
        else "tests.integration.delivery_site.plain.PlainRotatingFileHandler",
        "filename": os.environ["DELIVERY_FILE"],
        "maxBytes": int(os.environ.get("DELIVERY_MAX_BYTES", "200000")),
        "backupCount": int(os.environ.get("DELIVERY_BACKUPS", "10000")),
        "formatter": "audit_jsonl",
    }
elif _path == "timed":
    _audit = {
        "class": "logging.handlers.TimedRotatingFileHandler",
        "filename": os.environ["DELIVERY_FILE"],
        "when": "S",  # every second: a test run crosses several periods
        "backupCount": 0,  # keep every file
        "formatter": "audit_jsonl",
    }
elif _path == "otlp":
    _audit = {
        "class": "sec_audit.logging.otlp.OtlpLogHandler",
        "endpoint": os.environ["DELIVERY_OTLP_ENDPOINT"],
        "schedule_delay_millis": 50,
        "formatter": "audit_jsonl",
    }
else:
    _audit = {
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stdout",
        "formatter": "audit_jsonl",
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "audit_jsonl": {"()": "sec_audit.django.logging.formatters.audit_jsonl_formatter"},
    },
    "handlers": {
        "audit": _audit,
        "internal": {"class": "logging.StreamHandler"},
    },
    "loggers": {
        "sec_audit.audit": {"handlers": ["audit"], "level": "INFO", "propagate": False},
        "sec_audit.internal": {"handlers": ["internal"], "level": "WARNING", "propagate": False},
    },
}
