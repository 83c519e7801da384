"""`OtlpLogHandler`: each audit line sent as an OTLP log record over OTLP/HTTP.

Optional: needs the `[otlp]` extra (`opentelemetry-sdk` and
`opentelemetry-exporter-otlp-proto-http`). The handler sends what the audit formatter
wrote and nothing else: `emit` formats the record with its `JSONLLogFormatter` (the
same engine call, scrubbing and bounds as every other path), parses that line, and
maps its members onto the OTLP record (resource, scope, timestamps, severity, body,
`event_name`, attributes with their JSON types, trace and span ids). A handler
without the audit formatter sends nothing (its output would not be scrubbed).

Batching is the SDK's `BatchLogRecordProcessor` on a background thread; `emit` only
appends to its queue, so a request never waits on the network. The handler keeps its
own count of records handed over and not yet exported, bounded by `max_queue_size`:
a record that finds it full is dropped here (counted in `dropped`), and a batch the
exporter could not deliver (receiver down, after the exporter's own retries) is
counted too; both are reported on `sec_audit.internal` (rate-limited). Delivery
resumes by itself when the receiver answers again. `flush()` exports what is queued;
`close()` (logging's shutdown at exit) flushes and stops the thread. Each process
builds its own exporter on first use, so forked workers never share a connection.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from . import diagnostics
from .formatters import JSONLLogFormatter

__all__ = ["OtlpLogHandler"]

DEFAULT_ENDPOINT = "http://127.0.0.1:4318/v1/logs"
# Distinct resources (service names) one handler keeps a provider for.
_MAX_RESOURCES = 16
_INSTALL_HINT = "OtlpLogHandler needs the otlp extra: pip install 'django-sec-audit[otlp]'"


def _sdk() -> Any:
    """The OpenTelemetry modules, imported on first use (the extra is optional)."""
    try:
        from opentelemetry import trace
        from opentelemetry._logs import LogRecord, SeverityNumber
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
        from opentelemetry.sdk._logs import LoggerProvider, LogRecordLimits
        from opentelemetry.sdk._logs.export import (
            BatchLogRecordProcessor,
            LogRecordExporter,
            LogRecordExportResult,
        )
        from opentelemetry.sdk.resources import Resource
    except ImportError as exc:
        raise ImportError(_INSTALL_HINT) from exc
    return {
        "trace": trace,
        "LogRecord": LogRecord,
        "SeverityNumber": SeverityNumber,
        "OTLPLogExporter": OTLPLogExporter,
        "LoggerProvider": LoggerProvider,
        "LogRecordLimits": LogRecordLimits,
        "BatchLogRecordProcessor": BatchLogRecordProcessor,
        "LogRecordExporter": LogRecordExporter,
        "LogRecordExportResult": LogRecordExportResult,
        "Resource": Resource,
    }


def _resource_key(resource: Mapping[str, Any]) -> Any:
    try:  # the usual resource: a few string attributes
        key = tuple(sorted(resource.items()))
        hash(key)
        return key
    except TypeError:  # a list or map among the configured attributes
        return json.dumps(resource, sort_keys=True)


class _Pipeline:
    """One process's exporter, batch processor and providers (one per resource)."""

    def __init__(self, handler: OtlpLogHandler, sdk: dict[str, Any]) -> None:
        self.sdk = sdk
        self.pid = os.getpid()
        inner = sdk["OTLPLogExporter"](
            endpoint=handler.endpoint, headers=handler.headers, timeout=handler.timeout
        )
        success = sdk["LogRecordExportResult"].SUCCESS
        base: Any = sdk["LogRecordExporter"]

        class _CountingExporter(base):
            """The SDK exporter, telling the handler what became of every batch."""

            def export(self, batch: Sequence[Any]) -> Any:
                try:
                    result = inner.export(batch)
                except Exception as exc:
                    handler._exported(len(batch), False, exc)
                    raise
                handler._exported(len(batch), result == success, None)
                return result

            def shutdown(self) -> None:
                inner.shutdown()

            def force_flush(self, timeout_millis: int = 30000) -> bool:
                return bool(inner.force_flush(timeout_millis))

        self.processor = sdk["BatchLogRecordProcessor"](
            _CountingExporter(),
            schedule_delay_millis=handler.schedule_delay_millis,
            max_export_batch_size=handler.max_export_batch_size,
            max_queue_size=handler.max_queue_size,
        )
        # The engine bounds the attributes; the SDK must not drop any on its own.
        self.limits = sdk["LogRecordLimits"](max_attributes=100_000)
        self.providers: dict[Any, Any] = {}
        self.loggers: dict[tuple[Any, str, str], Any] = {}

    def logger(self, resource: dict[str, Any], scope: Mapping[str, Any]) -> Any:
        key = _resource_key(resource)
        provider = self.providers.get(key)
        if provider is None:
            if len(self.providers) >= _MAX_RESOURCES:
                key, provider = next(iter(self.providers.items()))
                diagnostics.report(
                    "audit.otlp_resources",
                    f"more than {_MAX_RESOURCES} distinct resources (service names); "
                    "further ones are sent under the first",
                )
            else:
                provider = self.sdk["LoggerProvider"](
                    resource=self.sdk["Resource"](resource),
                    shutdown_on_exit=False,  # the handler's close() shuts it down
                    log_record_limits=self.limits,
                )
                provider.add_log_record_processor(self.processor)
                self.providers[key] = provider
        name, version = str(scope.get("name", "sec_audit")), str(scope.get("version", ""))
        logger = self.loggers.get((key, name, version))
        if logger is None:
            logger = provider.get_logger(name, version or None)
            self.loggers[(key, name, version)] = logger
        return logger

    def record(self, line: Mapping[str, Any]) -> Any:
        sdk = self.sdk
        context = None
        trace_id, span_id = line.get("trace_id"), line.get("span_id")
        if isinstance(trace_id, str) and isinstance(span_id, str):
            trace = sdk["trace"]
            flags = line.get("trace_flags")
            span = trace.NonRecordingSpan(
                trace.SpanContext(
                    int(trace_id, 16),
                    int(span_id, 16),
                    is_remote=False,
                    trace_flags=trace.TraceFlags(flags if isinstance(flags, int) else 0),
                )
            )
            context = trace.set_span_in_context(span)
        number = line.get("severity_number")
        try:
            severity = sdk["SeverityNumber"](number)
        except ValueError:
            severity = sdk["SeverityNumber"].UNSPECIFIED
        return sdk["LogRecord"](
            timestamp=line.get("timestamp"),
            observed_timestamp=line.get("observed_timestamp"),
            context=context,
            severity_text=line.get("severity_text"),
            severity_number=severity,
            body=line.get("body"),
            attributes=line.get("attributes") or {},
            event_name=line.get("event_name"),
        )

    def shutdown(self) -> None:
        self.processor.shutdown()


class OtlpLogHandler(logging.Handler):
    """Send each audit line as an OTLP log record over OTLP/HTTP (batched, bounded).

    `endpoint` is the full URL of the logs endpoint (`http://collector:4318/v1/logs`).
    `resource_attributes` are added to every record's resource (the line's
    `service.name`, i.e. `core.source`, unless they set it). `headers` and `timeout`
    (seconds per export, the SDK's retries included) go to the SDK exporter;
    `max_queue_size`, `max_export_batch_size` and `schedule_delay_millis` bound the
    batching. The formatter must be the audit formatter (`audit_jsonl`).
    """

    def __init__(
        self,
        endpoint: str = DEFAULT_ENDPOINT,
        *,
        resource_attributes: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        max_queue_size: int = 2048,
        max_export_batch_size: int = 512,
        schedule_delay_millis: float = 1000.0,
        level: int = logging.NOTSET,
    ) -> None:
        for name, value in (
            ("max_queue_size", max_queue_size),
            ("max_export_batch_size", max_export_batch_size),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"OtlpLogHandler {name} must be an int >= 1 (got {value!r})")
        if max_export_batch_size > max_queue_size:
            raise ValueError("OtlpLogHandler max_export_batch_size must not exceed max_queue_size")
        if not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://")):
            raise ValueError(f"OtlpLogHandler endpoint must be an http(s) URL (got {endpoint!r})")
        self._sdk = _sdk()  # fail at configuration time when the extra is missing
        super().__init__(level)
        self.endpoint = endpoint
        self.resource_attributes = dict(resource_attributes or {})
        self.headers = dict(headers or {})
        self.timeout = float(timeout)
        self.max_queue_size = max_queue_size
        self.max_export_batch_size = max_export_batch_size
        self.schedule_delay_millis = float(schedule_delay_millis)
        self.dropped = 0
        self.exported = 0
        self._pending = 0
        self._failing = False
        self._counts = threading.Lock()
        self._pipeline: _Pipeline | None = None
        self._closed = False

    # -- emit -----------------------------------------------------------------------

    def emit(self, record: logging.LogRecord) -> None:
        if not isinstance(self.formatter, JSONLLogFormatter):
            self._drop(
                "audit.otlp_misconfigured",
                "OtlpLogHandler needs the audit formatter (audit_jsonl); record not sent",
            )
            return
        try:
            line = json.loads(self.format(record))
            pipeline = self._current_pipeline()
            resource = {**line.get("resource", {}), **self.resource_attributes}
            logger = pipeline.logger(resource, line.get("instrumentation_scope") or {})
            otlp_record = pipeline.record(line)
        except Exception:
            self.handleError(record)
            return
        with self._counts:
            if self._pending >= self.max_queue_size:
                full = True
            else:
                full = False
                self._pending += 1
        if full:
            self._drop(
                "audit.otlp_dropped",
                f"the OTLP queue is full ({self.max_queue_size} records) while "
                f"{self.endpoint} is slow or down; record dropped",
            )
            return
        try:
            logger.emit(otlp_record)
        except Exception:
            with self._counts:
                self._pending -= 1
            self.handleError(record)

    def _current_pipeline(self) -> _Pipeline:
        pipeline = self._pipeline
        if pipeline is None or pipeline.pid != os.getpid():
            with self._counts:
                pipeline = self._pipeline
                if pipeline is None or pipeline.pid != os.getpid():
                    # First use in this process (a forked worker never uses the
                    # parent's exporter, thread or connection).
                    pipeline = self._pipeline = _Pipeline(self, self._sdk)
                    self._pending = 0
        return pipeline

    # -- accounting (called from the exporter thread) ---------------------------------

    def _exported(self, count: int, ok: bool, exc: BaseException | None) -> None:
        with self._counts:
            self._pending = max(0, self._pending - count)
            if ok:
                self.exported += count
                recovered, self._failing = self._failing, False
            else:
                self.dropped += count
                self._failing = True
                total = self.dropped
        if ok:
            if recovered:
                diagnostics.report(
                    "audit.otlp_resumed",
                    f"OTLP export to {self.endpoint} delivers again; "
                    f"{self.dropped} records dropped in total",
                    level=logging.INFO,
                )
            return
        diagnostics.report(
            "audit.otlp_undelivered",
            f"cannot deliver {count} records to OTLP {self.endpoint}; {total} dropped in total",
            exc=exc,
        )

    def _drop(self, reason: str, message: str) -> None:
        with self._counts:
            self.dropped += 1
            total = self.dropped
        diagnostics.report(reason, f"{message}; {total} dropped in total")

    # -- flush and close ------------------------------------------------------------

    def flush(self) -> None:
        """Export everything queued in this process (waits for the receiver)."""
        pipeline = self._pipeline
        if pipeline is not None and pipeline.pid == os.getpid() and not self._closed:
            pipeline.processor.force_flush()

    def close(self) -> None:
        with self._counts:
            pipeline, closed, self._closed = self._pipeline, self._closed, True
        if pipeline is not None and pipeline.pid == os.getpid() and not closed:
            pipeline.shutdown()  # exports what is queued, then stops the thread
        super().close()
