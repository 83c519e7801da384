"""emit_event / LoggingRuntime: observed stamp, pipeline, logger.log, never raises."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from sec_audit.core.events import AuditEvent
from sec_audit.logging import emission
from sec_audit.logging.emission import LoggingRuntime, emit_event
from sec_audit.logging.pipeline import AuditPipeline

from ._logging_helpers import Capture, audit_logger, internal_capture


@pytest.fixture
def internal() -> Iterator[Capture]:
    with internal_capture() as capture:
        yield capture


@pytest.fixture
def audit() -> Iterator[tuple[logging.Logger, Capture]]:
    with audit_logger("tests.emission.audit") as pair:
        yield pair


def make_event(**attrs: Any) -> AuditEvent:
    return AuditEvent("auth.login.failed", "1.0", "auth.login.failed", attrs, 123, None)


def test_emits_record_with_body_event_and_empty_additions(
    audit: tuple[logging.Logger, Capture],
) -> None:
    logger, handler = audit
    event = make_event(**{"user.name": "bob"})
    assert emit_event(logger, event, logging.WARNING) is True
    (record,) = handler.records
    assert record.levelno == logging.WARNING
    assert record.getMessage() == "auth.login.failed"
    assert record.audit_attributes == {}  # type: ignore[attr-defined]
    emitted = record.audit_event  # type: ignore[attr-defined]
    assert isinstance(emitted, AuditEvent)
    assert emitted is not event  # the observed copy
    assert emitted.timestamp_ns == 123
    assert isinstance(emitted.observed_timestamp_ns, int) and emitted.observed_timestamp_ns > 0
    assert event.observed_timestamp_ns is None
    assert emitted.attributes["user.name"] == "bob"


def test_disabled_level_does_no_work(audit: tuple[logging.Logger, Capture]) -> None:
    logger, handler = audit
    calls: list[int] = []

    def spy(event: AuditEvent, level: int) -> tuple[AuditEvent, int]:
        calls.append(level)
        return event, level

    assert emit_event(logger, make_event(), logging.DEBUG, AuditPipeline(filters=[spy])) is False
    assert calls == [] and handler.records == []


def test_pipeline_drop_and_level_change(audit: tuple[logging.Logger, Capture]) -> None:
    logger, handler = audit
    drop = AuditPipeline(filters=[lambda e, lv: None])
    assert emit_event(logger, make_event(), logging.INFO, drop) is False
    escalate = AuditPipeline(filters=[lambda e, lv: (e, logging.ERROR)])
    assert emit_event(logger, make_event(), logging.INFO, escalate) is True
    assert [r.levelno for r in handler.records] == [logging.ERROR]


def test_enricher_sees_the_observed_copy(audit: tuple[logging.Logger, Capture]) -> None:
    logger, handler = audit
    stamps: list[int | None] = []

    def enrich(event: AuditEvent, level: int) -> tuple[AuditEvent, int]:
        stamps.append(event.observed_timestamp_ns)
        event.attributes["env"] = "prod"
        return event, level

    original = make_event()
    emit_event(logger, original, logging.INFO, AuditPipeline(enrichers=[enrich]))
    assert stamps[0] is not None
    assert handler.records[0].audit_event.attributes["env"] == "prod"  # type: ignore[attr-defined]
    assert "env" not in original.attributes


@pytest.mark.parametrize(
    ("event", "level", "kind"),
    [
        ("not an event", logging.INFO, "TypeError"),
        (None, logging.INFO, "TypeError"),
        (AuditEvent("x.y", "1.0", "x"), True, "TypeError"),
        (AuditEvent("x.y", "1.0", "x"), "INFO", "TypeError"),
    ],
)
def test_type_errors_are_reported_not_raised(
    audit: tuple[logging.Logger, Capture], internal: Capture, event: Any, level: Any, kind: str
) -> None:
    logger, handler = audit
    assert emit_event(logger, event, level) is False
    assert handler.records == []
    assert internal.reasons == ["audit.emit_failed"]
    assert kind in internal.lines[0]


def test_a_raising_handler_is_reported_not_raised(internal: Capture) -> None:
    class Boom(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            raise RuntimeError("disk full")

        def handleError(self, record: logging.LogRecord) -> None:
            raise RuntimeError("disk full")

    logger = logging.getLogger("tests.emission.boom")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(Boom())
    assert emit_event(logger, make_event(), logging.INFO) is False
    assert internal.reasons == ["audit.emit_failed"]


def test_runtime_defaults_and_pipeline_from_settings(
    audit: tuple[logging.Logger, Capture],
) -> None:
    runtime = LoggingRuntime()
    assert runtime.logger.name == "sec_audit.audit"
    assert not runtime.pipeline

    logger, handler = audit

    def tag(event: AuditEvent, level: int) -> tuple[AuditEvent, int]:
        event.attributes["tagged"] = True
        return event, level

    runtime = LoggingRuntime({"django": {"enrichers": [tag]}}, logger=logger)
    assert runtime.emit_event(make_event(), logging.WARNING) is True
    assert handler.records[0].audit_event.attributes["tagged"] is True  # type: ignore[attr-defined]


def test_explicit_pipeline_wins(audit: tuple[logging.Logger, Capture]) -> None:
    logger, _handler = audit
    runtime = LoggingRuntime(
        {"django": {"filters": [lambda e, lv: None]}},
        logger=logger,
        pipeline=AuditPipeline(),
    )
    assert runtime.emit_event(make_event(), logging.INFO) is True


def test_active_trace_is_none_without_opentelemetry(monkeypatch: pytest.MonkeyPatch) -> None:
    # The dev environment has the SDK (the [otlp] extra): hide it, as on a plain install.
    import sys

    monkeypatch.setitem(sys.modules, "opentelemetry", None)
    monkeypatch.setattr(emission, "_otel_trace", None)
    assert emission.active_trace() is None
    assert emission._otel_trace is False  # the absence is remembered, not re-imported


def test_active_trace_reads_the_current_span(monkeypatch: pytest.MonkeyPatch) -> None:
    trace = pytest.importorskip("opentelemetry.trace")  # in requirements-dev.txt
    monkeypatch.setattr(emission, "_otel_trace", None)
    assert emission.active_trace() is None  # no span is current
    ctx = trace.SpanContext(
        trace_id=0xA1 << 64,
        span_id=0xB2,
        is_remote=False,
        trace_flags=trace.TraceFlags(trace.TraceFlags.SAMPLED),
    )
    with trace.use_span(trace.NonRecordingSpan(ctx)):
        assert emission.active_trace() == (f"{0xA1 << 64:032x}", f"{0xB2:016x}", 1)


def test_active_trace_with_other_context_values(monkeypatch: pytest.MonkeyPatch) -> None:
    # The empty-context shortcut must not hide a span, nor invent one from other values.
    context = pytest.importorskip("opentelemetry.context")
    trace = pytest.importorskip("opentelemetry.trace")
    monkeypatch.setattr(emission, "_otel_trace", None)
    token = context.attach(context.set_value("tenant", "acme"))  # set, but no span
    try:
        assert context.get_current()  # not empty: the full lookup runs
        assert emission.active_trace() is None
        ctx = trace.SpanContext(trace_id=7, span_id=9, is_remote=False)  # not sampled
        with trace.use_span(trace.NonRecordingSpan(ctx)):
            assert emission.active_trace() == (f"{7:032x}", f"{9:016x}", 0)
    finally:
        context.detach(token)
    assert not context.get_current()  # back to the empty context: the shortcut


def test_active_trace_is_put_on_the_record(
    audit: tuple[logging.Logger, Capture], monkeypatch: pytest.MonkeyPatch
) -> None:
    logger, handler = audit
    monkeypatch.setattr(emission, "active_trace", lambda: ("a" * 32, "b" * 16, 1))
    emit_event(logger, make_event(), logging.INFO)
    assert handler.records[0].audit_trace == ("a" * 32, "b" * 16, 1)  # type: ignore[attr-defined]
