"""Filters and enrichers in every supported form, referenced from SEC_AUDIT in tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sec_audit.django.middleware import AuditMiddleware


class MyAudit(AuditMiddleware):
    """A project's own subclass still satisfies sec_audit.E001."""


def drop_probe(event: Any, level: int) -> tuple[Any, int] | None:
    # Documented callable form: None drops the event.
    if event.attributes.get("url.path") == "/probe/":
        return None
    return event, level


def add_environment(event: Any, level: int) -> tuple[Any, int]:
    event.attributes["environment"] = "production"
    return event, level


class DropRedirects:
    """Original object protocol: filter(event) -> bool."""

    def filter(self, event: Any) -> bool:
        return event.event_type != "http.response.redirect"


class AddTeam:
    """Original object protocol: enrich(event) -> Mapping (instantiated without args)."""

    def enrich(self, event: Any) -> Mapping[str, Any]:
        return {"team": "payments"}


def raising_enricher(event: Any, level: int) -> tuple[Any, int]:
    raise RuntimeError("enricher bug")


def bad_value_enricher(event: Any, level: int) -> tuple[Any, int]:
    event.attributes["weird"] = {1, 2}
    event.attributes["nan"] = float("nan")
    return event, level
