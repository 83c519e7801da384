"""Audit requests Django rejects as suspicious before `AuditMiddleware` sees them (B4).

A middleware listed before ours (`CommonMiddleware`, which calls `request.get_host()`)
can raise `DisallowedHost`, or any other `SuspiciousOperation`
(`RequestDataTooBig`, `TooManyFieldsSent`, ...). Django turns it into a 400 in the
exception wrapper around that middleware and logs it on
`django.security.<ExceptionClass>` with `extra={"status_code": ..., "request": ...}`;
our middleware never runs. A small handler on `django.security` (and directly on
`django.security.DisallowedHost`, which projects often silence with
`propagate: False`) writes the `http.response.*` event our middleware would have
written, by the same code (`http_events.record_http_event`), with `error.type` = the
exception class. There is no `duration_ns` (the start of the request is unknown) and no
request body.

Exactly one line per request:
- while `AuditMiddleware` is running for the request (its context is active: Django
  raised between it and the view), the handler only notes the exception class on the
  request and the middleware writes the line, with `error.type`, on the way out;
- otherwise the handler writes it and marks the request, so a middleware that sees the
  same request later writes nothing (and vice versa);
- the same handler on two loggers of one hierarchy sees a record twice: the mark makes
  the second a no-op.

Fail-open: nothing here raises into Django's logging; failures are reported on
`sec_audit.internal` (`audit.security_hook_failed`). `install()` is idempotent.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Final

from django.core.exceptions import SuspiciousOperation
from django.core.signals import request_started

from sec_audit.core.context import get_context
from sec_audit.logging import diagnostics

from . import request as req
from .context import RequestAudit
from .http_events import SUSPICIOUS_ATTR, WRITTEN_ATTR, record_http_event
from .runtime import get_runtime

__all__ = [
    "HOOK_LOGGERS",
    "SuspiciousRequestHandler",
    "audit_rejected_request",
    "install",
    "installed_handlers",
    "uninstall",
]

HOOK_LOGGERS: Final = ("django.security", "django.security.DisallowedHost")


def audit_rejected_request(request: Any, status: int, exc: BaseException | None) -> bool:
    """Write the HTTP event for a request Django answered with `status` because of
    `exc`, unless it is (or will be) written elsewhere. True when a line was recorded."""
    if getattr(request, WRITTEN_ATTR, False):
        return False
    error_type = req.error_type_name(exc) if isinstance(exc, SuspiciousOperation) else None
    ctx = get_context()
    if isinstance(ctx, RequestAudit):
        if getattr(ctx, "request", None) is request:  # AuditMiddleware is around this
            if error_type is not None:
                setattr(request, SUSPICIOUS_ATTR, error_type)
            return False
        ctx = None  # another request's state: nothing to inherit
    runtime = get_runtime()
    if runtime.ignore_paths:
        path = getattr(request, "path_info", None)
        if isinstance(path, str) and any(p.search(path) for p in runtime.ignore_paths):
            return False
    audit = RequestAudit(runtime, request, 0, ctx)
    return record_http_event(audit, status, timed=False, suspicious=error_type)


class SuspiciousRequestHandler(logging.Handler):
    """Turns Django's `django.security.*` response records into audit events."""

    def handle(self, record: logging.LogRecord) -> bool:  # type: ignore[override]
        # No handler lock: recording is thread-safe, and a burst of rejected requests
        # should not queue behind one another here.
        if self.filter(record):
            self.emit(record)
            return True
        return False

    def emit(self, record: logging.LogRecord) -> None:
        try:
            fields = record.__dict__
            request = fields.get("request")
            status = fields.get("status_code")
            if request is None or type(status) is not int:
                return  # not one of log_response()'s records (e.g. SuspiciousSession)
            exc_info = record.exc_info
            exc = exc_info[1] if exc_info else None
            audit_rejected_request(request, status, exc)
        except Exception as exc:
            diagnostics.report(
                "audit.security_hook_failed", "rejected request not audited", exc=exc
            )


def installed_handlers(logger: logging.Logger) -> list[logging.Handler]:
    """Our handlers on `logger` (matched by class name, so a reloaded module counts)."""
    return [h for h in logger.handlers if type(h).__name__ == SuspiciousRequestHandler.__name__]


_lock = threading.Lock()
_handler: SuspiciousRequestHandler | None = None  # set while installed
_loggers: tuple[logging.Logger, ...] = ()


def install() -> SuspiciousRequestHandler:
    """Attach the handler to every logger in HOOK_LOGGERS, once; idempotent.

    Also re-attaches it at the start of each request (`request_started`) if logging was
    reconfigured since: `dictConfig` strips the handlers of every logger it names and
    of their existing children, so re-running `django.setup()` (it names `django`)
    would otherwise silently drop the hook. `uninstall()` turns all of this off.
    """
    global _handler, _loggers
    with _lock:
        loggers = tuple(logging.getLogger(name) for name in HOOK_LOGGERS)
        handler = _handler
        if handler is None:
            found = [h for lg in loggers for h in installed_handlers(lg)]
            mine = [h for h in found if isinstance(h, SuspiciousRequestHandler)]
            handler = mine[0] if mine else SuspiciousRequestHandler()
        for logger in loggers:
            for stale in installed_handlers(logger):
                if stale is not handler:
                    logger.removeHandler(stale)
            if handler not in logger.handlers:
                logger.addHandler(handler)
        _handler, _loggers = handler, loggers
    request_started.connect(_ensure_installed, dispatch_uid=_DISPATCH_UID)
    return handler


def uninstall() -> None:
    """Detach every handler `install()` attached and stop re-attaching it."""
    global _handler, _loggers
    request_started.disconnect(dispatch_uid=_DISPATCH_UID)
    with _lock:
        _handler, _loggers = None, ()
        for name in HOOK_LOGGERS:
            logger = logging.getLogger(name)
            for handler in installed_handlers(logger):
                logger.removeHandler(handler)


_DISPATCH_UID = "sec_audit.django.security_hook.ensure_installed"


def _ensure_installed(**kwargs: Any) -> None:
    """`request_started` receiver: a few identity checks unless logging was reconfigured."""
    handler = _handler
    if handler is None:
        return
    for logger in _loggers:
        if handler not in logger.handlers:
            try:
                install()
                diagnostics.debug(
                    "audit.security_hook_reinstalled",
                    f"audit handler re-attached to {logger.name!r} after a logging reconfiguration",
                )
            except Exception as exc:
                diagnostics.report("audit.security_hook_failed", "hook not re-attached", exc=exc)
            return
