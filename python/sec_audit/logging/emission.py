"""Hand an audit event to stdlib logging: observed stamp, pipeline, `logger.handle`.

The formatter does the expensive part (one engine call) only for records a handler
actually writes; here we add nothing but the observed time and the extensions'
verdict. Emission never raises: a failure costs the event, is reported on
`sec_audit.internal` and leaves the request alone.

Without a `LogRecord` when nothing could tell: if every handler the record would
reach (`Logger.callHandlers`' walk) is one whose whole treatment of the record we
know - a plain `logging.StreamHandler`, a handler on the cross-process write path
(`delivery`), or a `NullHandler`, without filters, with one of our formatters - and
the logger is a plain, enabled, unfiltered `Logger` under the default record factory,
the formatter formats the fields it would have read from the record (`EventFields`)
and the line is written as that handler's `emit` would write it, under its lock. Any
other configuration (checked on every event, so `dictConfig`, `addHandler`, a
filter, a record factory or a new formatter take effect on the next event) takes
the ordinary `makeRecord` + `logger.handle` path. Same bytes either way
(tests/unit/test_direct_emission.py).
"""

from __future__ import annotations

import logging
import logging.handlers
import time
from typing import Any

from sec_audit.core.config import SecAuditSettings
from sec_audit.core.events import AuditEvent

from . import delivery, diagnostics
from .pipeline import AuditPipeline

__all__ = ["AUDIT_LOGGER_NAME", "EventFields", "LoggingRuntime", "active_trace", "emit_event"]

AUDIT_LOGGER_NAME = "sec_audit.audit"

_otel_trace: Any = None  # the opentelemetry.trace module, False when absent
_otel_current: Any = None  # opentelemetry.context.get_current


def active_trace() -> tuple[str, str, int] | None:
    """(trace_id, span_id, flags) of the current OpenTelemetry span, if any.

    Read at emission time (the formatter may run on another thread, e.g. behind a
    queue handler, where the span is no longer current).
    """
    global _otel_trace, _otel_current
    if _otel_trace is None:
        try:
            from opentelemetry import context as otel_context  # optional dependency
            from opentelemetry import trace as otel_trace
        except ImportError:
            otel_trace = False
        else:
            _otel_current = otel_context.get_current
        _otel_trace = otel_trace
    if _otel_trace is False:
        return None
    try:
        context = _otel_current()
        if not context:  # nothing is set in this context, so no span either
            return None
        ctx = _otel_trace.get_current_span(context).get_span_context()
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

    When nothing could tell (the module docstring), each handler's line is written
    without a record. Otherwise the record is made by `logger.makeRecord` (so a custom
    record factory or Logger class still applies) and passed to `logger.handle`, as
    `Logger.log` would, but without `findCaller`'s stack walk: the caller is always
    this function.
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
        if pipeline is not None and pipeline.steps:  # the tuple's truth, no __bool__ frame
            outcome = pipeline.run(event, level)
            if outcome is None:
                return False
            event, level = outcome
            if not logger.isEnabledFor(level):  # an extension lowered the level
                return True
        trace = active_trace()
        targets = _direct_targets(logger, level)
        if targets is not None:
            _write_direct(targets, logger, event, level, trace)
        else:
            logger.handle(_make_record(logger, event, level, trace))
        return True
    except Exception as exc:
        diagnostics.report("audit.emit_failed", "an audit event could not be emitted", exc=exc)
        return False


def _make_record(
    logger: logging.Logger, event: AuditEvent, level: int, trace: tuple[str, str, int] | None
) -> logging.LogRecord:
    extra: dict[str, Any] = {"audit_event": event, "audit_attributes": {}}
    if trace is not None:
        extra["audit_trace"] = trace
    return logger.makeRecord(
        logger.name, level, _PATHNAME, _LINENO, event.body, (), None, _FUNC_NAME, extra
    )


# Where records say they come from (what `findCaller` would have found: this module).
_PATHNAME = __file__
_FUNC_NAME = emit_event.__name__
_LINENO = emit_event.__code__.co_firstlineno


class EventFields:
    """What our formatters read of a record made by `emit_event`, without the record.

    `JSONLLogFormatter.format` reads `audit_event`, `audit_attributes`, `audit_trace`,
    `levelno` and `levelname` (and `created`, `name` on its fallback lines); the
    attributes a record factory, a filter or OTel's instrumentation could add
    (`otelTraceID`, `resource_source`) are absent, as on the record the default
    factory makes.
    """

    __slots__ = ("audit_event", "audit_trace", "levelname", "levelno", "name")
    audit_attributes = None  # the record's `{}`: no additions

    def __init__(
        self, name: str, event: AuditEvent, level: int, trace: tuple[str, str, int] | None
    ) -> None:
        self.name = name
        self.audit_event = event
        self.levelno = level
        self.levelname = logging.getLevelName(level)
        # Always set: reading an unset slot raises (and getattr's default then costs
        # an exception); None is what `record_trace` reads as "no span", as for a record.
        self.audit_trace = trace

    @property
    def created(self) -> float:
        return time.time()


# How each accepted handler class writes a formatted line (what its `emit` does).
# Exact classes only: a subclass may override `handle`, `format` or `emit`.
_PLAIN, _SAFE, _NOTHING = 0, 1, 2
_HANDLER_KINDS: dict[type, int] = {
    logging.StreamHandler: _PLAIN,
    logging.NullHandler: _NOTHING,
    delivery.SafeStreamHandler: _SAFE,
    delivery.SafeFileHandler: _SAFE,
    delivery.SafeWatchedFileHandler: _SAFE,
    delivery.SafeRotatingFileHandler: _SAFE,
    delivery.SafeTimedRotatingFileHandler: _SAFE,
}
# The stdlib classes `delivery.make_safe` gives the safe emit (an instance attribute).
_MADE_SAFE = frozenset(
    {
        logging.StreamHandler,
        logging.FileHandler,
        logging.handlers.WatchedFileHandler,
        logging.handlers.RotatingFileHandler,
        logging.handlers.TimedRotatingFileHandler,
    }
)
_SAFE_EMIT = delivery.safe_emit


def _handler_kind(handler: logging.Handler) -> int | None:
    """How `handler` writes a record, if we know all of it; None otherwise."""
    emit = handler.__dict__.get("emit")
    if emit is None:
        return _HANDLER_KINDS.get(type(handler))
    if getattr(emit, "__func__", None) is _SAFE_EMIT and type(handler) in _MADE_SAFE:
        return _SAFE
    return None


_Targets = list[tuple[logging.Handler, int]]


def _direct_targets(logger: logging.Logger, level: int) -> _Targets | None:
    """The handlers a record at `level` would be handled by, with how each writes it,
    when none of them (nor the logger) could tell a record from `EventFields`."""
    if (
        type(logger) is not logging.Logger
        or logger.filters
        or logger.disabled
        or logging.getLogRecordFactory() is not logging.LogRecord
    ):
        return None
    targets: _Targets = []
    found = False
    node: logging.Logger | None = logger
    while node is not None:  # Logger.callHandlers' walk
        for handler in node.handlers:
            found = True
            kind = _handler_kind(handler)
            if kind is None:
                return None
            if kind == _NOTHING or level < handler.level:
                continue
            # (No lock to write under, as after a replaced createLock: the record path.)
            if (
                handler.filters
                or handler.lock is None
                or not type(handler.formatter).__dict__.get("record_free")
            ):
                return None
            targets.append((handler, kind))
        node = node.parent if node.propagate else None
    return targets if found else None  # no handler at all: logging's lastResort decides


def _write_direct(
    targets: _Targets,
    logger: logging.Logger,
    event: AuditEvent,
    level: int,
    trace: tuple[str, str, int] | None,
) -> None:
    """Each target's line, written as its `emit` would write it, under its lock."""
    fields = EventFields(logger.name, event, level, trace)
    for handler, kind in targets:
        # The lock itself rather than `acquire()`/`release()`/`flush()`: for these exact
        # classes those are the stdlib's, which only take the same (reentrant) lock.
        with handler.lock:  # type: ignore[union-attr]
            try:
                line = handler.formatter.format(fields)  # type: ignore[union-attr, arg-type]
                if kind == _SAFE:
                    delivery.write_line(handler, line)  # type: ignore[arg-type]
                else:
                    stream = handler.stream  # type: ignore[attr-defined]
                    stream.write(line + handler.terminator)  # type: ignore[attr-defined]
                    if hasattr(stream, "flush"):  # StreamHandler.flush's test
                        stream.flush()
            except RecursionError:
                raise
            except Exception:
                handler.handleError(_make_record(logger, event, level, trace))


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
