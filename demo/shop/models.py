from django.db import models


class Account(models.Model):
    name = models.CharField(max_length=100)
    email = models.EmailField()
    api_key = models.CharField(max_length=100, blank=True)

    def __str__(self) -> str:
        return self.name
