"""Extensions referenced by dotted path from the pipeline tests."""

from __future__ import annotations

from typing import Any

from sec_audit.core.events import AuditEvent


def drop_health(event: AuditEvent, level: int) -> tuple[AuditEvent, int] | None:
    if str(event.attributes.get("url.path", "")).startswith("/health/"):
        return None
    return event, level


def add_environment(event: AuditEvent, level: int) -> tuple[AuditEvent, int]:
    event.attributes["environment"] = "production"
    return event, level


class TenantEnricher:
    def enrich(self, event: AuditEvent) -> dict[str, Any]:
        return {"tenant": "acme"}
