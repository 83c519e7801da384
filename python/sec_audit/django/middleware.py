"""`AuditMiddleware`: one `http.response.*` event per audited request.

Sync and async from one code path: `start()` before the view and `finish()` after it
are plain functions; `__call__` and `__acall__` differ only in `await` (no thread hop
under ASGI). What runs per request (docs/architecture.md, design "Request path"):

1. `start`: the monotonic clock; `ignore_paths` exit here. A lazy context is set for
   the view, and the raw body is read only when body capture applies (the view may
   consume the stream).
2. The view.
3. `finish`: `http_events.record_http_event` decides whether the response is logged
   (`classify`: status class, ignore set, `log_ok_responses`, `sample_rate`) before
   building anything; only then are the attributes built (request id, session id,
   URL, route, user, DRF, body) and the event emitted.

Audit code never breaks a request: any failure is reported (rate-limited) on
`sec_audit.internal`, the view's response is returned untouched, and the event is
still written when at all possible. View exceptions propagate as Django does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from time import perf_counter_ns
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponseBase

from sec_audit.core import context as core_context
from sec_audit.logging import diagnostics

from . import runtime as runtime_module
from .body import read_for_capture
from .context import RequestAudit
from .http_events import ERROR_ATTR, classify, record_http_event
from .runtime import get_runtime

__all__ = ["AuditMiddleware", "classify", "finish", "start"]

# The request-scoped ContextVar's own methods (what core.context's get_context,
# set_context and reset_context call), bound once: no Python frame per request.
_get_context = core_context._current.get
_set_context = core_context._current.set
_reset_context = core_context._current.reset


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


def finish(audit: RequestAudit, response: HttpResponseBase) -> None:
    """After the view: emit the event if this response is logged. Never raises."""
    try:
        record_http_event(audit, int(response.status_code), timed=True)
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
        finish(audit, response)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        """Remember the exception class for `error.type`; Django still handles it."""
        try:
            # The class only: its name is needed for a 5xx event alone (most
            # exceptions seen here are Http404 and PermissionDenied).
            setattr(request, ERROR_ATTR, type(exception))
        except Exception:
            pass
        return None
