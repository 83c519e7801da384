"""`AuditMiddleware`: one `http.response.*` event per audited request.

Sync and async from one code path: `start()` before the view and `finish()` after it
are plain functions; `__call__` and `__acall__` differ only in `await` (no thread hop
under ASGI). What runs per request (docs/architecture.md, design "Request path"):

1. `start`: the monotonic clock; `ignore_paths` exit here. A lazy context is set for
   the view, and the raw body is read only when body capture applies (the view may
   consume the stream).
2. The view.
3. `finish`: decide whether the response is logged (status class, ignore set,
   `log_ok_responses`, `sample_rate`) before building anything; only then build the
   attributes (request id, session id, URL, route, user, DRF, body) and emit.

Audit code never breaks a request: any failure is reported (rate-limited) on
`sec_audit.internal`, the view's response is returned untouched, and the event is
still written when at all possible. View exceptions propagate as Django does.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from time import perf_counter_ns
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

from sec_audit.core.context import get_context, reset_context, set_context
from sec_audit.logging import diagnostics

from . import request as req
from .body import body_attributes, read_for_capture
from .context import RequestAudit
from .drf import drf_attributes
from .events import (
    HTTP_CLIENT_ERROR,
    HTTP_REDIRECT,
    HTTP_SERVER_ERROR,
    HTTP_SUCCESS,
    make_event,
    outcome_of,
)
from .runtime import DjangoLoggingRuntime, get_runtime

__all__ = ["AuditMiddleware", "classify", "finish", "start"]

# Set by process_exception on the request (a view exception is turned into a
# response by Django before it reaches us, so this is the only place to see it).
_ERROR_ATTR = "_sec_audit_error_type"
# Set by security_hook: the SuspiciousOperation class Django answered with a 4xx.
SUSPICIOUS_ATTR = "_sec_audit_suspicious"
# Set once a request's HTTP event is written (here or by security_hook): one line each.
WRITTEN_ATTR = "_sec_audit_written"


def start(request: HttpRequest) -> RequestAudit | None:
    """Before the view: the request's audit state, or None to pass it through."""
    try:
        runtime = get_runtime()
        if runtime.ignore_paths:
            path = request.path_info
            for pattern in runtime.ignore_paths:
                if pattern.search(path):
                    return None
        audit = RequestAudit(runtime, request, perf_counter_ns(), get_context())
        if runtime.log_request_bodies:
            audit.keep_body(read_for_capture(runtime, request))
        return audit
    except Exception as exc:
        diagnostics.report("audit.context_prep_failed", "request not audited", exc=exc)
        return None


def classify(runtime: DjangoLoggingRuntime, status: int) -> tuple[str, int] | None:
    """(event type, level) when the response is logged, else None. Cheap by design."""
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


def _part(values: dict[str, Any], reason: str, build: Callable[[], Any]) -> None:
    """Add one optional group of attributes; a failure costs that group, not the event."""
    try:
        result = build()
    except Exception as exc:
        diagnostics.report(reason, "attributes left out of an HTTP event", exc=exc)
        return
    if result:
        values.update(result)


def _http_values(
    audit: RequestAudit, status: int, event_type: str, duration_ns: int | None
) -> dict[str, Any]:
    runtime = audit.runtime
    request = audit.request
    method = audit.method
    outcome = outcome_of(event_type)
    values: dict[str, Any] = {
        "request_id": audit.request_id,
        "http.request.method": method,
        "http.response.status_code": status,
        "action.name": "response",
        "action.method": method,
        "action.result": outcome,
        "outcome": outcome,
        "duration_ns": duration_ns,
    }
    _part(values, "audit.request_fields_failed", lambda: _request_fields(audit))
    _part(values, "audit.address_failed", lambda: {"source.address": audit.source_address})
    if runtime.emit_session_id:
        # The session may hit the database: a failure there costs only session.id.
        _part(values, "audit.session_failed", lambda: {"session.id": audit.session_id})
    _part(values, "audit.route_failed", lambda: _route_fields(request))
    _part(values, "audit.user_failed", lambda: _user_fields(runtime, request))
    if runtime.drf_active:
        _part(values, "audit.drf_failed", lambda: drf_attributes(request))
    pending = audit.captured_body
    if pending is not None:
        _part(values, "audit.body_capture_failed", lambda: body_attributes(runtime, pending))
    if status >= 500:
        values["error.type"] = getattr(request, _ERROR_ATTR, None)
    else:
        values["error.type"] = getattr(request, SUSPICIOUS_ATTR, None)
    return values


def _request_fields(audit: RequestAudit) -> dict[str, Any]:
    values: dict[str, Any] = {
        "url.full": audit.url,
        "url.path": audit.path,
        "http.request.header.host": audit.disallowed_host,
        "user_agent.original": req.user_agent(audit.request),
    }
    redact_query = audit.runtime.query_redactor
    if redact_query is not None:
        query = audit.request.META.get("QUERY_STRING")
        if isinstance(query, str) and query:
            values["url.query"] = redact_query(query)
    return values


def _route_fields(request: HttpRequest) -> dict[str, Any]:
    route, name = req.route_of(request)
    return {"http.route": route, "http.route_name": name}


def _user_fields(runtime: DjangoLoggingRuntime, request: HttpRequest) -> dict[str, Any]:
    # Read after the view, so users set by DRF/JWT authentication are seen.
    user = getattr(request, "user", None)
    user_id, name = req.user_identity(user, runtime.include_usernames)
    return {"user.id": user_id, "user.name": name}


def finish(audit: RequestAudit, response: HttpResponseBase) -> None:
    """After the view: emit the event if this response is logged. Never raises."""
    try:
        duration_ns = perf_counter_ns() - audit.started_ns
        runtime = audit.runtime
        status = int(response.status_code)
        decision = classify(runtime, status)
        if decision is None:
            return
        event_type, level = decision
        request = audit.request
        if getattr(request, WRITTEN_ATTR, False):  # security_hook wrote it already
            return
        setattr(request, WRITTEN_ATTR, True)
        values = _http_values(audit, status, event_type, duration_ns)
        runtime.record(make_event(event_type, runtime.schema_version, values), level)
    except Exception as exc:
        diagnostics.report("audit.response_record_failed", "HTTP event not written", exc=exc)


class AuditMiddleware:
    """Audits every response (see the module docstring); place it after Session and
    Authentication middleware."""

    sync_capable = True
    async_capable = True

    def __init__(
        self,
        get_response: Callable[[HttpRequest], HttpResponseBase]
        | Callable[[HttpRequest], Awaitable[HttpResponseBase]],
    ) -> None:
        self.get_response = get_response
        self._is_async = iscoroutinefunction(get_response)
        if self._is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self._is_async:
            return self.__acall__(request)
        audit = start(request)
        if audit is None:
            return self.get_response(request)
        token = set_context(audit)
        try:
            response = self.get_response(request)
        finally:
            reset_context(token)
        finish(audit, response)  # type: ignore[arg-type]
        return response

    async def __acall__(self, request: HttpRequest) -> Any:
        audit = start(request)
        if audit is None:
            return await self.get_response(request)  # type: ignore[misc]
        token = set_context(audit)
        try:
            response = await self.get_response(request)  # type: ignore[misc]
        finally:
            reset_context(token)
        finish(audit, response)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        """Remember the exception class for `error.type`; Django still handles it."""
        try:
            setattr(request, _ERROR_ATTR, req.error_type_name(exception))
        except Exception:
            pass
        return None
