"""Request body capture: the gates (Django side) and the engine call (bytes -> fragment).

Split in two because of the request path: the raw bytes must be read before the view
(which may consume the stream), but parsing, scrubbing and bounding only happen for a
request whose event is actually written.

Gates, in the original's order (without its `body_field_allowlist` requirement, D1):
`log_request_bodies`; method in `body_methods`; `log_body_paths` empty or one matches
`path_info`; not multipart or form-encoded; a JSON media type (`application/json`,
`application/*+json`); an integer CONTENT_LENGTH (else skipped) not above
`max_body_bytes` (else `too_large`, without reading).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sec_audit.core.engine import BodyFragment
from sec_audit.logging import diagnostics

if TYPE_CHECKING:
    from .runtime import DjangoLoggingRuntime

__all__ = ["REPORTED_STATUSES", "TOO_LARGE", "capture", "read_for_capture"]

TOO_LARGE = "too_large"
# Statuses worth a `request.body.parse_status` attribute (the original's three, plus
# `too_deep`: our engine's bound on nesting). `ok` gives the body, `empty` nothing.
REPORTED_STATUSES = frozenset({"too_large", "invalid_json", "unsupported_shape", "too_deep"})


def _is_json(media: str) -> bool:
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _json_content_type(content_type: object) -> bool:
    """A JSON media type (parameters ignored); also False for multipart and forms."""
    return _is_json(str(content_type).split(";", 1)[0].strip().lower())


# Content types repeat (`application/json`, `...; charset=utf-8`): decide each once.
_json_content_type_cached = lru_cache(maxsize=256)(_json_content_type)
_MAX_CACHED_CONTENT_TYPE = 256  # longer (attacker-made) values are decided, never cached


def read_for_capture(runtime: DjangoLoggingRuntime, request: Any) -> bytes | str | None:
    """Before the view: the raw bytes to capture, `TOO_LARGE`, or None (no capture)."""
    core = runtime.config.core
    method = request.method
    if not isinstance(method, str) or method.upper() not in core.body_methods:
        return None
    if core.log_body_paths:
        path = request.path_info
        if not any(pattern.search(path) for pattern in core.log_body_paths):
            return None
    meta = request.META
    content_type = meta.get("CONTENT_TYPE", "")
    if type(content_type) is str and len(content_type) <= _MAX_CACHED_CONTENT_TYPE:
        is_json = _json_content_type_cached(content_type)
    else:
        is_json = _json_content_type(content_type)
    if not is_json:  # also excludes multipart/* and form-encoded bodies
        return None
    try:
        length = int(meta.get("CONTENT_LENGTH", ""))
    except (TypeError, ValueError):
        return None
    if length < 0 or length > core.max_body_bytes:
        return TOO_LARGE
    if getattr(request, "_read_started", False) and not hasattr(request, "_body"):
        return None  # someone already consumed the stream: never steal it
    try:
        data = request.body  # cached by Django: the view can still read it
    except Exception as exc:
        diagnostics.debug("audit.body_read_failed", "request body not captured", exc=exc)
        return None
    return data if isinstance(data, bytes) else None


def capture(runtime: DjangoLoggingRuntime, pending: bytes | str) -> tuple[Any, str | None]:
    """After the view, for a logged event: (`request.body`, `request.body.parse_status`),
    at most one of them set. `pending` is what `read_for_capture` kept (not None)."""
    if isinstance(pending, str):
        return None, pending
    status, fragment = runtime.engine.capture_body(pending)
    if status == "ok" and isinstance(fragment, BodyFragment):
        return fragment, None
    if status in REPORTED_STATUSES:
        return None, status
    return None, None
