"""`SecAuditConfig` (label `sec_audit_django`): checks, runtime, receivers."""

from __future__ import annotations

from django.apps import AppConfig

__all__ = ["SecAuditConfig"]


class SecAuditConfig(AppConfig):
    name = "sec_audit.django"
    label = "sec_audit_django"
    verbose_name = "Security audit"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the system checks
        from .runtime import get_runtime, on_runtime_built

        # Bad settings stop start-up here (ImproperlyConfigured naming the key). A
        # required-but-missing DRF/auditlog does not: checks E004/E006 report it.
        runtime = get_runtime()
        from .logging import auth  # noqa: F401 - connects the auth receivers

        on_runtime_built(_sync_model_forwarding)
        _sync_model_forwarding(runtime)


def _sync_model_forwarding(runtime: object) -> None:
    """Connect the auditlog forwarder while model events are active (D3), else disconnect."""
    from .logging import model

    if getattr(runtime, "model_events_active", False):
        model.connect()
    else:
        model.disconnect()
