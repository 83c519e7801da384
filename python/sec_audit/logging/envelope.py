"""The OTel LogRecord envelope around one audit event, and the fallback records.

Key order, nanosecond integers and the fallback chain follow the original
(docs/events.md, The line). The formatter hands the envelope's members to the
engine's `render_event` (one call, no envelope dict); these are the decisions about
them that depend on the record.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from typing import Any

from sec_audit.core.events import AuditEvent, EventType, severity_number

from .pipeline import PROTECTED_KEYS

__all__ = ["fallback_line", "merged_attributes", "record_time_ns", "record_trace", "severity_of"]

MALFORMED = EventType.MALFORMED_RECORD
# The stdlib levels' severity numbers (others are computed).
_SEVERITY: dict[object, int] = {
    level: severity_number(level)
    for level in (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL)
}
_MINIMAL_SOURCE_CHARS = 256
_MINIMAL_SCHEMA_CHARS = 64


def record_time_ns(record: logging.LogRecord) -> int:
    created = getattr(record, "created", None)
    if isinstance(created, (int, float)) and not isinstance(created, bool) and created >= 0:
        return int(created * 1_000_000_000)
    return time.time_ns()


def merged_attributes(event: AuditEvent, additions: Mapping[Any, Any] | None) -> dict[str, Any]:
    """The event's attributes plus record additions (which override, except protected keys).

    Merged before the single render, so `max_attributes` caps the whole map (B6).
    """
    attrs = event.attributes
    if (
        not additions
        and attrs.get("event_type") is event.event_type
        and attrs.get("schema_version") is event.schema_version
    ):
        return attrs  # the engine only reads it
    merged = dict(attrs)
    merged["event_type"] = event.event_type
    merged["schema_version"] = event.schema_version
    if additions:
        for key, value in additions.items():
            if isinstance(key, str) and key not in PROTECTED_KEYS:
                merged[key] = value
    return merged


def severity_of(levelno: int) -> int:
    """The record level's OTel severity number (the stdlib levels from a table)."""
    return _SEVERITY.get(levelno) or severity_number(levelno)


def record_trace(record: logging.LogRecord) -> tuple[Any, Any, Any] | None:
    """(trace_id, span_id, trace_flags) for the line, or None.

    OTel's logging instrumentation stamps these on the record; otherwise the span
    captured at emission time (the formatter may run on another thread).
    """
    trace_id = getattr(record, "otelTraceID", None)
    if trace_id is not None:
        flags = 1 if getattr(record, "otelTraceSampled", False) else 0
        return trace_id, getattr(record, "otelSpanID", None), flags
    trace = getattr(record, "audit_trace", None)
    if isinstance(trace, tuple) and len(trace) == 3:
        return trace
    return None


def _fallbacks(
    created: int, service: str, scope: dict[str, str], schema: str
) -> tuple[dict[str, Any], ...]:
    head: dict[str, Any] = {
        "timestamp": created,
        "observed_timestamp": created,
        "severity_text": "ERROR",
        "severity_number": 17,
        "body": MALFORMED,
    }
    full = {
        **head,
        "resource": {"service.name": service},
        "instrumentation_scope": scope,
        "attributes": {"event_type": MALFORMED, "schema_version": schema},
        "event_name": MALFORMED,
    }
    minimal = {
        **head,
        "resource": {"service.name": service[:_MINIMAL_SOURCE_CHARS]},
        "attributes": {"event_type": MALFORMED, "schema_version": schema[:_MINIMAL_SCHEMA_CHARS]},
        "event_name": MALFORMED,
    }
    last = {**head, "attributes": {"event_type": MALFORMED}, "event_name": MALFORMED}
    return full, minimal, last


def fallback_line(
    record: logging.LogRecord,
    *,
    service: str,
    scope: dict[str, str],
    schema: str,
    limit: int,
    compact: bool,
) -> str:
    """The first of malformed_record / minimal / last resort that fits in `limit`.

    Our own small values only, written with `json.dumps` so no engine or user
    pattern can fail here; the last resort is a few hundred bytes, and the limit is
    at least 1024.
    """
    separators = (",", ":") if compact else (", ", ": ")
    candidates = _fallbacks(record_time_ns(record), service, scope, schema)
    line = ""
    for candidate in candidates:
        line = json.dumps(candidate, separators=separators)
        if len(line) <= limit:
            return line
    return line
