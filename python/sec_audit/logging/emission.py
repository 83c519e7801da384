"""Hand an audit event to stdlib logging: observed stamp, pipeline, `logger.handle`.

The formatter does the expensive part (one engine call) only for records a handler
actually writes; here we add nothing but the observed time and the extensions'
verdict. Emission never raises: a failure costs the event, is reported on
`sec_audit.internal` and leaves the request alone.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from sec_audit.core.config import SecAuditSettings
from sec_audit.core.events import AuditEvent

from . import diagnostics
from .pipeline import AuditPipeline

__all__ = ["AUDIT_LOGGER_NAME", "LoggingRuntime", "active_trace", "emit_event"]

AUDIT_LOGGER_NAME = "sec_audit.audit"

_otel_trace: Any = None  # the opentelemetry.trace module, False when absent


def active_trace() -> tuple[str, str, int] | None:
    """(trace_id, span_id, flags) of the current OpenTelemetry span, if any.

    Read at emission time (the formatter may run on another thread, e.g. behind a
    queue handler, where the span is no longer current).
    """
    global _otel_trace
    if _otel_trace is None:
        try:
            from opentelemetry import trace as otel_trace  # optional dependency
        except ImportError:
            otel_trace = False
        _otel_trace = otel_trace
    if _otel_trace is False:
        return None
    try:
        ctx = _otel_trace.get_current_span().get_span_context()
        if not ctx.is_valid:
            return None
        flags = 1 if ctx.trace_flags.sampled else 0
        return f"{ctx.trace_id:032x}", f"{ctx.span_id:016x}", flags
    except Exception:  # a broken tracer must not cost the audit event
        return None


def emit_event(
    logger: logging.Logger,
    event: AuditEvent,
    level: int,
    pipeline: AuditPipeline | None = None,
    *,
    owned: bool = False,
) -> bool:
    """Log `event` at `level` on `logger`; True when a record was handed to it.

    The record carries a copy of `event` stamped with the observed time; with
    `owned=True` (the caller will never look at `event` again and nobody else holds
    it) the event itself is stamped instead of copied.

    The record is made by `logger.makeRecord` (so a custom record factory or Logger
    class still applies) and passed to `logger.handle`, as `Logger.log` would, but
    without `findCaller`'s stack walk: the caller is always this function.
    """
    try:
        if not isinstance(level, int) or isinstance(level, bool):
            raise TypeError(f"level must be an int (got {type(level).__name__})")
        if not isinstance(event, AuditEvent):
            raise TypeError(f"event must be an AuditEvent (got {type(event).__name__})")
        # Fast path: nothing listens at this level, so do no work at all.
        if not logger.isEnabledFor(level):
            return False
        event = event.observed(time.time_ns(), owned=owned)
        if pipeline:
            outcome = pipeline.run(event, level)
            if outcome is None:
                return False
            event, level = outcome
            if not logger.isEnabledFor(level):  # an extension lowered the level
                return True
        extra: dict[str, Any] = {"audit_event": event, "audit_attributes": {}}
        trace = active_trace()
        if trace is not None:
            extra["audit_trace"] = trace
        record = logger.makeRecord(
            logger.name, level, _PATHNAME, _LINENO, event.body, (), None, _FUNC_NAME, extra
        )
        logger.handle(record)
        return True
    except Exception as exc:
        diagnostics.report("audit.emit_failed", "an audit event could not be emitted", exc=exc)
        return False


# Where records say they come from (what `findCaller` would have found: this module).
_PATHNAME = __file__
_FUNC_NAME = emit_event.__name__
_LINENO = emit_event.__code__.co_firstlineno


class LoggingRuntime:
    """Settings, logger and pipeline bound together once (at start-up)."""

    __slots__ = ("logger", "pipeline", "settings")

    def __init__(
        self,
        settings: object = None,
        logger: logging.Logger | None = None,
        pipeline: AuditPipeline | None = None,
    ) -> None:
        self.settings = SecAuditSettings.from_value(settings)
        self.logger = logger if logger is not None else logging.getLogger(AUDIT_LOGGER_NAME)
        if pipeline is None:
            django = self.settings.django
            pipeline = AuditPipeline(django.filters, django.enrichers)
        self.pipeline = pipeline

    def emit_event(self, event: AuditEvent, level: int, *, owned: bool = False) -> bool:
        return emit_event(self.logger, event, level, self.pipeline, owned=owned)
