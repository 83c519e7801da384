from django.apps import AppConfig


class AuditAppConfig(AppConfig):
    name = "tests.django.auditapp"
    label = "auditapp"
    default_auto_field = "django.db.models.AutoField"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from .models import Account

        auditlog.register(Account)
