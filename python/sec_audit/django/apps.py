"""`SecAuditConfig` (label `sec_audit_django`): checks, runtime, receivers, security hook."""

from __future__ import annotations

from django.apps import AppConfig
from django.core.exceptions import ImproperlyConfigured

__all__ = ["SecAuditConfig"]


class SecAuditConfig(AppConfig):
    name = "sec_audit.django"
    label = "sec_audit_django"
    verbose_name = "Security audit"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the system checks
        from .runtime import get_runtime, package_installed

        # Bad settings stop start-up here (ImproperlyConfigured naming the key). A
        # required-but-missing DRF/auditlog does not: checks E004/E006 report it.
        try:
            get_runtime()
        except ImproperlyConfigured as exc:
            # `from None`: the message naming the key is the whole story, and the
            # last line every entry point (manage.py, gunicorn, django.setup()) prints.
            raise ImproperlyConfigured(str(exc)) from None
        from .logging import auth  # noqa: F401 - connects the auth receivers
        from .security_hook import install

        # Requests Django rejects as suspicious before AuditMiddleware runs (B4).
        # Idempotent: a second ready() or install() adds no second handler.
        install()

        from sec_audit.logging import delivery

        # Whole lines across worker processes for the stdlib stream and file handlers
        # of the audit loggers (docs/delivery.md); the rest is reported by check W010.
        delivery.install()

        if package_installed("auditlog", "auditlog"):
            from .logging import model

            # Connected whenever auditlog is installed; each event checks the current
            # runtime, so override_settings(model_events_enabled=...) takes effect (D3).
            model.connect()
