from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path


def reject(request: HttpRequest, marker: str) -> HttpResponse:
    request.body  # noqa: B018 - read it, as a real view would
    return HttpResponse("no", status=403)


urlpatterns = [path("hit/<str:marker>/", reject)]
