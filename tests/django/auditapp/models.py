from django.db import models


class Account(models.Model):
    name = models.CharField(max_length=100)
    api_key = models.CharField(max_length=100, blank=True, default="")
    balance = models.IntegerField(default=0)

    class Meta:
        app_label = "auditapp"

    def __str__(self) -> str:
        # auditlog stores this as object_repr; the forwarder must never emit it.
        return f"ACCOUNT-REPR-{self.name}"
