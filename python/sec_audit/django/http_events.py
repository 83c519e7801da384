"""The `http.response.*` event of one request: whether it is logged, its attributes, writing it.

Shared by `AuditMiddleware` (after the view) and `security_hook` (a request Django
rejected before the middleware ran), so both write the same line from the same code:
`classify` is the one place that decides whether a response is logged (the common
unlogged case, a status below 400 without `log_ok_responses`, is its first test),
`http_attributes` the one builder of the attributes, `record_http_event` the one
emitter (and the one-line-per-request mark).
"""

from __future__ import annotations

import random
from time import perf_counter_ns
from typing import Any, Final

from sec_audit.logging import diagnostics

from . import request as req
from .body import capture as capture_body
from .context import RequestAudit
from .drf import drf_attributes
from .events import (
    ATTRIBUTE_ORDER,
    HTTP_CLIENT_ERROR,
    HTTP_REDIRECT,
    HTTP_SERVER_ERROR,
    HTTP_SUCCESS,
    make_event,
    outcome_of,
    present,
)
from .runtime import DjangoLoggingRuntime

__all__ = [
    "ERROR_ATTR",
    "SUSPICIOUS_ATTR",
    "WRITTEN_ATTR",
    "classify",
    "http_attributes",
    "record_http_event",
]

# Set by the middleware's process_exception on the request (a view exception is
# turned into a response by Django before the middleware sees it): the class only.
ERROR_ATTR = "_sec_audit_error_type"
# Set by security_hook: the SuspiciousOperation class Django answered with a 4xx.
SUSPICIOUS_ATTR = "_sec_audit_suspicious"
# Set once a request's HTTP event is written (by either caller): one line each.
WRITTEN_ATTR = "_sec_audit_written"


def classify(runtime: DjangoLoggingRuntime, status: int) -> tuple[str, int] | None:
    """(event type, level) when the response is logged, else None. Cheap by design:
    the common unlogged response is decided by the first test."""
    if status < 400 and not runtime.log_ok_responses:
        return None
    if status in runtime.ignore_status_codes:
        return None
    if status >= 500:
        return HTTP_SERVER_ERROR
    if status >= 400:
        return HTTP_CLIENT_ERROR
    if not runtime.log_ok_responses:
        return None
    rate = runtime.sample_rate
    # The original's gate: strict `<`, so a rate of 0 never logs.
    if rate < 1.0 and not random.random() < rate:
        return None
    return HTTP_REDIRECT if status >= 300 else HTTP_SUCCESS


def _lost(reason: str, exc: Exception) -> None:
    """One optional group of attributes failed: it is left out, the event is kept."""
    diagnostics.report(reason, "attributes left out of an HTTP event", exc=exc)


def http_attributes(
    audit: RequestAudit, status: int, event_type: str, duration_ns: int | None
) -> dict[str, Any]:
    """The HTTP event's attributes, final: identity first, then ATTRIBUTE_ORDER, None and
    '' left out (so `make_event(..., owned=True)` takes the dict as it is).

    One pass, no intermediate dicts: each optional group is read into locals under its
    own guard (a failure costs that group and is reported), then the dict is written
    once, in order. Groups are read in a fixed order (request fields, address, session,
    route, user, DRF, body), which is also the order of their side effects.
    """
    runtime = audit.runtime
    request = audit.request
    method = req.request_method(request)
    outcome = _OUTCOMES[event_type] if event_type in _OUTCOMES else outcome_of(event_type)

    try:
        url = audit.url
        path = req.request_path(request)
        host = audit.disallowed_host
        agent = req.user_agent(request)
        query = None
        redact_query = runtime.query_redactor
        if redact_query is not None:
            raw_query = request.META.get("QUERY_STRING")
            if isinstance(raw_query, str) and raw_query:
                query = redact_query(raw_query)
    except Exception as exc:
        _lost("audit.request_fields_failed", exc)
        url = path = host = agent = query = None
    try:
        address = audit.source_address
    except Exception as exc:
        _lost("audit.address_failed", exc)
        address = None
    session_id = None
    if runtime.emit_session_id:
        # The session may hit the database: a failure there costs only session.id.
        try:
            session_id = audit.session_id
        except Exception as exc:
            _lost("audit.session_failed", exc)
    try:
        route, route_name = req.route_of(request)
    except Exception as exc:
        _lost("audit.route_failed", exc)
        route = route_name = None
    try:
        # Read after the view, so users set by DRF/JWT authentication are seen.
        user_id, user_name = req.user_identity(req.request_user(request), runtime.include_usernames)
    except Exception as exc:
        _lost("audit.user_failed", exc)
        user_id = user_name = None
    drf = None
    if runtime.drf_active:
        try:
            drf = drf_attributes(request)
        except Exception as exc:
            _lost("audit.drf_failed", exc)
    body = body_status = None
    pending = audit.captured_body
    if pending is not None:
        try:
            body, body_status = capture_body(runtime, pending)
        except Exception as exc:
            _lost("audit.body_capture_failed", exc)
    if status >= 500:
        error_type = getattr(request, ERROR_ATTR, None)
        if isinstance(error_type, type):  # process_exception keeps the class only
            error_type = req.error_class_name(error_type)
    else:
        error_type = getattr(request, SUSPICIOUS_ATTR, None)

    # str-or-None values are tested for truth (None and '' are the omitted ones).
    values: dict[str, Any] = {
        "event_type": event_type,
        "schema_version": runtime.schema_version,
    }
    request_id = audit.request_id
    if request_id:
        values["request_id"] = request_id
    if session_id:
        values["session.id"] = session_id
    if address:
        values["source.address"] = address
    if method:
        values["http.request.method"] = method
    values["http.response.status_code"] = status
    if url:
        values["url.full"] = url
    if path:
        values["url.path"] = path
    if route:
        values["http.route"] = route
    if route_name:
        values["http.route_name"] = route_name
    if user_id:
        values["user.id"] = user_id
    if user_name:
        values["user.name"] = user_name
    values["action.name"] = "response"
    if method:
        values["action.method"] = method
    if outcome:
        values["action.result"] = outcome
    if drf:
        for key in _DRF_ORDER:
            value = drf.get(key)
            if present(value):
                values[key] = value
    if body is not None:
        values["request.body"] = body
    if body_status:
        values["request.body.parse_status"] = body_status
    if outcome:
        values["outcome"] = outcome
    if duration_ns is not None:
        values["duration_ns"] = duration_ns
    if host:
        values["http.request.header.host"] = host
    if query:
        values["url.query"] = query
    if agent:
        values["user_agent.original"] = agent
    if error_type is not None and present(error_type):
        values["error.type"] = error_type
    return values


_OUTCOMES: Final = {
    event_type: outcome_of(event_type)
    for event_type, _ in (HTTP_SUCCESS, HTTP_REDIRECT, HTTP_CLIENT_ERROR, HTTP_SERVER_ERROR)
}
_DRF_ORDER: Final = tuple(key for key in ATTRIBUTE_ORDER if key.startswith("drf_"))


def record_http_event(
    audit: RequestAudit, status: int, *, timed: bool, suspicious: str | None = None
) -> bool:
    """Write the request's HTTP event if `status` is logged and no line was written for
    the request yet; True when it was recorded. `timed`: `duration_ns` is measured
    from `audit.started_ns` to now (False: the start is unknown); `suspicious` is the
    rejecting `SuspiciousOperation`'s class name (`error.type`, security_hook)."""
    runtime = audit.runtime
    decision = classify(runtime, status)
    if decision is None:
        return False
    request = audit.request
    if getattr(request, WRITTEN_ATTR, False):  # the other caller wrote it already
        return False
    setattr(request, WRITTEN_ATTR, True)
    if suspicious is not None:
        setattr(request, SUSPICIOUS_ATTR, suspicious)
    duration_ns = perf_counter_ns() - audit.started_ns if timed else None
    event_type, level = decision
    values = http_attributes(audit, status, event_type, duration_ns)
    runtime.record(
        make_event(event_type, runtime.schema_version, values, owned=True), level, owned=True
    )
    return True
