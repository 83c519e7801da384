"""Build `AuditEvent`s with attributes in the documented order (docs/events.md).

The order is the original's (docs/events.md, Attributes), then our additions. A value of
None or '' is omitted (0 and False are kept).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Final

from sec_audit.core.events import BODIES, AuditEvent, EventType, event_body

__all__ = [
    "ATTRIBUTE_ORDER",
    "HTTP_CLIENT_ERROR",
    "HTTP_REDIRECT",
    "HTTP_SERVER_ERROR",
    "HTTP_SUCCESS",
    "make_event",
    "ordered",
    "outcome_of",
    "present",
]

ATTRIBUTE_ORDER: Final = (
    "request_id",
    "session.id",
    "source.address",
    "http.request.method",
    "http.response.status_code",
    "url.full",
    "url.path",
    "http.route",
    "http.route_name",
    "user.id",
    "user.name",
    "action.name",
    "action.method",
    "action.result",
    "action.type",
    "model",
    "app_label",
    "model_label",
    "object_id",
    "crud_action",
    "changed_fields",
    "drf_action",
    "drf_basename",
    "drf_view_class",
    "drf_serializer_class",
    "drf_throttle_scope",
    "drf_authentication_classes",
    "drf_permission_classes",
    "request.body",
    "request.body.parse_status",
    "outcome",
    "duration_ns",
    # Additions (docs/compatibility.md: B4 and Additions), after everything the original wrote.
    "http.request.header.host",
    "url.query",
    "user_agent.original",
    "error.type",
)

HTTP_SUCCESS: Final = (EventType.HTTP_RESPONSE_SUCCESS, logging.INFO)
HTTP_REDIRECT: Final = (EventType.HTTP_RESPONSE_REDIRECT, logging.INFO)
HTTP_CLIENT_ERROR: Final = (EventType.HTTP_RESPONSE_CLIENT_ERROR, logging.WARNING)
HTTP_SERVER_ERROR: Final = (EventType.HTTP_RESPONSE_SERVER_ERROR, logging.ERROR)


def outcome_of(event_type: str) -> str | None:
    """`success` / `failure` where the type says so; None (omitted) otherwise."""
    if event_type.endswith(".success"):
        return "success"
    if event_type.endswith((".failed", ".client_error", ".server_error")):
        return "failure"
    return None


def present(value: Any) -> bool:
    """The one rule for optional attributes: written unless None or '' (0 and False are
    kept)."""
    return value is not None and not (isinstance(value, str) and not value)


def ordered(values: Mapping[str, Any]) -> dict[str, Any]:
    """`values` in ATTRIBUTE_ORDER, dropping None and ''; unknown keys follow in their order."""
    out: dict[str, Any] = {}
    for key in ATTRIBUTE_ORDER:
        value = values.get(key)
        if present(value):
            out[key] = value
    if len(values) > len(out):
        for key, value in values.items():
            if key not in out and key not in _KNOWN and present(value):
                out[key] = value
    return out


_KNOWN: Final = frozenset(ATTRIBUTE_ORDER)


def make_event(
    event_type: str, schema_version: str, values: Mapping[str, Any], *, owned: bool = False
) -> AuditEvent:
    """The event for `values` (put in ATTRIBUTE_ORDER, None and '' dropped).

    `owned=True` is the hot path's promise that `values` is already final: a new dict
    that starts with `event_type` and `schema_version`, then the rest in
    ATTRIBUTE_ORDER without None or '', held by nobody else. The event then takes it
    as its attributes without reordering or copying.
    """
    if owned and type(values) is dict:
        return AuditEvent.owned(
            event_type, schema_version, BODIES.get(event_type, event_type), values
        )
    return AuditEvent(event_type, schema_version, event_body(event_type), ordered(values))
