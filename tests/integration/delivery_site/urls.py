from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from sec_audit.django.runtime import get_runtime


def reject(request: HttpRequest, marker: str) -> HttpResponse:
    request.body  # noqa: B018 - read it, as a real view would
    return HttpResponse("no", status=403)


def engine(request: HttpRequest) -> HttpResponse:
    """The engine class this worker renders with (SEC_AUDIT_ENGINE reached the workers)."""
    return HttpResponse(type(get_runtime().engine).__name__, status=403)


urlpatterns = [path("hit/<str:marker>/", reject), path("engine/", engine)]
