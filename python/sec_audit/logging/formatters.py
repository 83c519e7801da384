"""`JSONLLogFormatter`: one audit record -> one scrubbed, bounded OTel JSON line.

Per record: ONE engine call with the envelope's members (`render_event`: redaction,
value patterns, projection, JSON writing), then bound the size. Whatever goes wrong,
`format()` returns a line (the fallback chain) and the loss is reported on
`sec_audit.internal`; it never raises into the logging machinery.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Literal

from sec_audit import __version__
from sec_audit.core.config import SecAuditSettings
from sec_audit.core.engine import EngineConfig, build_engine
from sec_audit.core.events import AuditEvent

from . import diagnostics
from .degrade import shrink_line
from .envelope import (
    MALFORMED,
    fallback_line,
    merged_attributes,
    record_time_ns,
    record_trace,
    severity_of,
)
from .integrity import IntegrityChain

__all__ = ["JSONLLogFormatter"]

_MAX_KEYS_SHOWN = 10
_MAX_KEY_CHARS = 64


def _as_text(value: object, default: str) -> str:
    if isinstance(value, str):
        return value
    try:
        return str(value)
    except Exception:
        return default


class JSONLLogFormatter(logging.Formatter):
    """Formats records made by `emit_event` (`record.audit_event`) as JSON lines.

    `fmt`, `datefmt`, `style` and `validate` are accepted for dictConfig and ignored;
    `exc_info` is dropped (a traceback is not audit data). `compact=True` gives
    `","`/`":"` separators. `engine` lets a caller share one compiled engine.
    """

    # `format` reads only the fields `emission.EventFields` carries, so `emit_event`
    # may hand it those instead of a LogRecord. Looked up in a class's own dict: a
    # subclass (which may read more of the record) gets records unless it says so too.
    record_free = True

    def __init__(
        self,
        fmt: str | None = None,
        datefmt: str | None = None,
        style: Literal["%", "{", "$"] = "%",
        validate: bool = True,
        *,
        source: str | None = None,
        compact: bool = False,
        settings: object = None,
        scope_name: str = "sec_audit.logging",
        engine: Any = None,
    ) -> None:
        super().__init__(fmt, datefmt, style, validate)
        self.settings = SecAuditSettings.from_value(settings)
        limits = self.settings.logging.projection_limits
        if engine is None:
            engine = build_engine(EngineConfig.from_settings(self.settings.core, limits))
        self.engine = engine
        self.source = source
        self.compact = bool(compact)
        self.scope: dict[str, str] = {"name": scope_name, "version": __version__}
        self.max_record_bytes = limits.max_record_bytes
        # Tamper evidence (docs/delivery.md, integrity): `finish()` seals every line, fallbacks
        # included; the size bound keeps room for the member it adds.
        integrity = self.settings.logging.integrity
        self.chain = IntegrityChain.from_config(integrity) if integrity is not None else None
        self.reserved_bytes = self.chain.member_bytes(self.compact) if self.chain else 0

    @property
    def line_limit(self) -> int:
        return self.max_record_bytes - self.reserved_bytes

    def finish(self, line: str) -> str:
        """Last step for every line, including fallbacks: the integrity seal if on."""
        return self.chain.seal(line) if self.chain is not None else line

    # -- the envelope ----------------------------------------------------------------

    def service_name(self, record: logging.LogRecord) -> object:
        return self.source or getattr(record, "resource_source", None) or self.settings.core.source

    def render_event(self, record: logging.LogRecord, event: AuditEvent) -> str:
        """The event's line: one engine call with the envelope's members."""
        additions = getattr(record, "audit_attributes", None)
        if additions is not None and type(additions) is not dict:
            if not isinstance(additions, Mapping):
                diagnostics.report(
                    "audit.additions_ignored",
                    f"record.audit_attributes is a {type(additions).__name__}, not a mapping",
                )
                additions = None
        observed = event.observed_timestamp_ns
        # The usual record (no additions, identity attributes in place) is rendered
        # from the event's own dict: merged_attributes returns it (the engine only reads).
        return self.engine.render_event(  # type: ignore[no-any-return]
            event.timestamp_ns,
            record_time_ns(record) if observed is None else observed,
            record.levelname,
            severity_of(record.levelno),
            event.body,
            self.service_name(record),
            self.scope,
            merged_attributes(event, additions),
            event.event_type,
            record_trace(record),
            self.compact,
        )

    # -- format ----------------------------------------------------------------------

    def format(self, record: logging.LogRecord) -> str:
        event = getattr(record, "audit_event", None)
        if isinstance(event, AuditEvent):
            try:
                line: str = self.render_event(record, event)
            except Exception as exc:
                diagnostics.report(
                    "audit.format_failed",
                    f"{event.event_type} could not be rendered; written as malformed_record",
                    exc=exc,
                )
                line = self._fallback(record, event)
            else:
                # The line is ASCII (chars == bytes); `line_limit` without the property.
                if len(line) > self.max_record_bytes - self.reserved_bytes:
                    line = self._bound(record, event, line)
        else:
            if not record.name.startswith(diagnostics.INTERNAL_LOGGER_NAME):
                diagnostics.report(
                    "audit.non_audit_record",
                    f"a record from logger {record.name!r} carries no audit event; "
                    "written as audit.logging.malformed_record",
                )
            line = self._plain_record(record)
        try:
            return self.finish(line)
        except Exception as exc:
            diagnostics.report("audit.format_failed", "finishing the line failed", exc=exc)
            return line

    def _plain_record(self, record: logging.LogRecord) -> str:
        """A record that is not an audit event, readable: logger, level, message.

        The message goes through the engine like any attribute (sensitive keys, value
        patterns, detectors, projection limits); `exc_info` is dropped. If anything
        fails, the empty malformed_record fallback is written.
        """
        if not isinstance(record.levelno, int):  # not made by logging: nothing to show
            return self._fallback(record, None)
        try:
            try:
                message = record.getMessage()
            except Exception:  # bad %-args: the template alone
                message = _as_text(record.msg, "")
            event = AuditEvent(
                MALFORMED,
                "unknown",
                MALFORMED,
                {
                    "log.logger": _as_text(record.name, ""),
                    "log.level": _as_text(record.levelname, ""),
                    "log.message": message,
                },
                timestamp_ns=record_time_ns(record),
            )
            line: str = self.render_event(record, event)
        except Exception as exc:
            diagnostics.debug("audit.format_failed", "non-audit record not rendered", exc=exc)
            return self._fallback(record, None)
        if len(line) > self.line_limit:
            return self._fallback(record, None)
        return line

    def _bound(self, record: logging.LogRecord, event: AuditEvent, line: str) -> str:
        limit = self.line_limit
        try:
            shrunk = shrink_line(line, limit, compact=self.compact)
        except Exception as exc:
            diagnostics.debug("audit.record_degraded", "shrinking failed", exc=exc)
            shrunk = None
        if shrunk is not None:
            fitted, dropped = shrunk
            shown = ", ".join(key[:_MAX_KEY_CHARS] for key in dropped[:_MAX_KEYS_SHOWN])
            more = (
                f" and {len(dropped) - _MAX_KEYS_SHOWN} more"
                if len(dropped) > _MAX_KEYS_SHOWN
                else ""
            )
            diagnostics.report(
                "audit.record_degraded",
                f"{event.event_type} record of {len(line)} bytes exceeds max_record_bytes="
                f"{self.max_record_bytes}; replaced by [TRUNCATED]: {shown}{more}",
            )
            return fitted
        diagnostics.report(
            "audit.record_too_large",
            f"{event.event_type} record of {len(line)} bytes exceeds max_record_bytes={self.max_record_bytes} "
            "even without its non-core attributes; written as malformed_record",
        )
        return self._fallback(record, event)

    def _fallback(self, record: logging.LogRecord, event: AuditEvent | None) -> str:
        source = self.settings.core.source
        try:
            return fallback_line(
                record,
                service=_as_text(self.service_name(record), source),
                scope=self.scope,
                schema=event.schema_version if event is not None else "unknown",
                limit=self.line_limit,
                compact=self.compact,
            )
        except Exception as exc:  # cannot happen with our own values; never raise anyway
            diagnostics.debug("audit.format_failed", "fallback record failed", exc=exc)
            return fallback_line(
                logging.makeLogRecord({}),
                service=source,
                scope=self.scope,
                schema="unknown",
                limit=self.line_limit,
                compact=self.compact,
            )
