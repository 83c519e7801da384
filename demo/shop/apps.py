from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "shop"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from .models import Account

        auditlog.register(Account)
