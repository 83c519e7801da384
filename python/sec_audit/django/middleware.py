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
from typing import Any, Final

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponseBase

from sec_audit.core import context as core_context
from sec_audit.logging import diagnostics

from . import request as req
from . import runtime as runtime_module
from .body import capture as capture_body
from .body import read_for_capture
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
)
from .runtime import DjangoLoggingRuntime, get_runtime

__all__ = ["AuditMiddleware", "classify", "finish", "start"]

# The request-scoped ContextVar's own methods (what core.context's get_context,
# set_context and reset_context call), bound once: no Python frame per request.
_get_context = core_context._current.get
_set_context = core_context._current.set
_reset_context = core_context._current.reset

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
        runtime = runtime_module._runtime or get_runtime()  # the cached one, else built
        if runtime.ignore_paths:
            path = request.path_info
            for pattern in runtime.ignore_paths:
                if pattern.search(path):
                    return None
        audit = RequestAudit(runtime, request, perf_counter_ns(), _get_context())
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


def _lost(reason: str, exc: Exception) -> None:
    """One optional group of attributes failed: it is left out, the event is kept."""
    diagnostics.report(reason, "attributes left out of an HTTP event", exc=exc)


def _present(value: Any) -> bool:
    """Written unless None or '' (0 and False are kept), as `events.ordered`."""
    return value is not None and not (isinstance(value, str) and not value)


def _http_values(
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
    # `audit.method` / `audit.path` without the property calls (same checks).
    method = getattr(request, "method", None)
    if not isinstance(method, str):
        method = None
    outcome = _OUTCOMES[event_type] if event_type in _OUTCOMES else outcome_of(event_type)

    try:
        url = audit.url
        path = getattr(request, "path", None)
        if not isinstance(path, str):
            path = None
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
        error_type = getattr(request, _ERROR_ATTR, None)
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
            if _present(value):
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
    if error_type is not None and _present(error_type):
        values["error.type"] = error_type
    return values


_OUTCOMES: Final = {
    event_type: outcome_of(event_type)
    for event_type, _ in (HTTP_SUCCESS, HTTP_REDIRECT, HTTP_CLIENT_ERROR, HTTP_SERVER_ERROR)
}
_DRF_ORDER: Final = tuple(key for key in ATTRIBUTE_ORDER if key.startswith("drf_"))


def finish(audit: RequestAudit, response: HttpResponseBase) -> None:
    """After the view: emit the event if this response is logged. Never raises."""
    try:
        runtime = audit.runtime
        status = int(response.status_code)
        if status < 400 and not runtime.log_ok_responses:
            return  # the common unlogged case, decided as `classify` would
        duration_ns = perf_counter_ns() - audit.started_ns
        decision = classify(runtime, status)
        if decision is None:
            return
        event_type, level = decision
        request = audit.request
        if getattr(request, WRITTEN_ATTR, False):  # security_hook wrote it already
            return
        setattr(request, WRITTEN_ATTR, True)
        values = _http_values(audit, status, event_type, duration_ns)
        event = make_event(event_type, runtime.schema_version, values, owned=True)
        runtime.record(event, level, owned=True)
    except Exception as exc:
        diagnostics.report("audit.response_record_failed", "HTTP event not written", exc=exc)


_app_warned = False


def _warn_if_app_missing() -> bool:
    """True without `SecAuditConfig` (only HTTP events are written); warns once a process."""
    global _app_warned
    from django.apps import apps

    if apps.is_installed("sec_audit.django"):
        return False
    if _app_warned:
        return True
    _app_warned = True
    diagnostics.report(
        "audit.app_not_installed",
        "AuditMiddleware is in MIDDLEWARE but 'sec_audit.django.apps.SecAuditConfig' is "
        "not in INSTALLED_APPS: auth, model and rejected-request (DisallowedHost) events "
        "are NOT written and the system checks do not run. Add it near the top of "
        "INSTALLED_APPS.",
    )
    return True


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
        if _warn_if_app_missing():
            try:
                # Without the app nothing validated SEC_AUDIT at start-up: a bad one
                # stops start-up here, as SecAuditConfig.ready() would have. (With the
                # app, a later bad change, e.g. override_settings, fails open per request.)
                get_runtime()
            except ImproperlyConfigured as exc:
                raise ImproperlyConfigured(str(exc)) from None

    def __call__(self, request: HttpRequest) -> Any:
        if self._is_async:
            return self.__acall__(request)
        audit = start(request)
        if audit is None:
            return self.get_response(request)
        token = _set_context(audit)
        try:
            response = self.get_response(request)
        finally:
            _reset_context(token)
        try:  # the common unlogged response (< 400, no log_ok_responses) needs no call
            status = response.status_code  # type: ignore[union-attr]
            if type(status) is int and status < 400 and not audit.runtime.log_ok_responses:
                return response
        except Exception:
            pass
        finish(audit, response)  # type: ignore[arg-type]
        return response

    async def __acall__(self, request: HttpRequest) -> Any:
        audit = start(request)
        if audit is None:
            return await self.get_response(request)  # type: ignore[misc]
        token = _set_context(audit)
        try:
            response = await self.get_response(request)  # type: ignore[misc]
        finally:
            _reset_context(token)
        try:  # as in __call__
            status = response.status_code  # type: ignore[union-attr]
            if type(status) is int and status < 400 and not audit.runtime.log_ok_responses:
                return response
        except Exception:
            pass
        finish(audit, response)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        """Remember the exception class for `error.type`; Django still handles it."""
        try:
            # The class only: its name is needed for a 5xx event alone (most
            # exceptions seen here are Http404 and PermissionDenied).
            setattr(request, _ERROR_ATTR, type(exception))
        except Exception:
            pass
        return None
