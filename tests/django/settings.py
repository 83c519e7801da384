"""Django settings for the integration tests (SQLite in memory, real DRF and auditlog).

Kept deliberately plain: pytest-django loads it for every test run (tests/unit too), so it
must import nothing beyond Django. Audit output is captured per test by the `audit` fixture.
"""

from __future__ import annotations

SECRET_KEY = "tests-only-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "example.test", "api.example.test"]
USE_TZ = True
ROOT_URLCONF = "tests.django.auditapp.urls"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

INSTALLED_APPS = [
    "sec_audit.django.apps.SecAuditConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "rest_framework",
    "auditlog",
    "tests.django.auditapp",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    "sec_audit.django.middleware.AuditMiddleware",
]

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}

# Fast hashing: the auth tests log in many times.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

SEC_AUDIT = {"core": {"source": "testapp"}}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "UNAUTHENTICATED_USER": None,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"null": {"class": "logging.NullHandler"}},
    "loggers": {
        # Handlers are attached per test (tests/django/conftest.py); nothing goes to stderr.
        "sec_audit.audit": {"level": "INFO", "propagate": False, "handlers": ["null"]},
        "sec_audit.internal": {"level": "DEBUG", "propagate": True},
    },
}
