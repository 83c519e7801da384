"""OtlpLogHandler against a real OTLP/HTTP receiver (rotel, installed from PyPI).

rotel decodes every OTLP log record it receives and prints its fields; the tests
assert on those decoded fields: resource, scope, severity, timestamps, body,
event_name, typed attributes, trace and span ids, and that a scrubbed value arrives
scrubbed. A receiver that is down never blocks the caller; the loss is counted and
reported on `sec_audit.internal`; a receiver that comes back receives again.
"""

from __future__ import annotations

import json
import logging
import select
import socket
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry import trace
from tests.unit._logging_helpers import Capture, internal_capture

from sec_audit.core.events import AuditEvent
from sec_audit.logging.emission import emit_event
from sec_audit.logging.formatters import JSONLLogFormatter
from sec_audit.logging.otlp import OtlpLogHandler

from ._rotel import Decoded, Receiver, free_port

SECRET = "hunter2-do-not-ship"


@pytest.fixture
def internal() -> Iterator[Capture]:
    with internal_capture() as captured:
        yield captured


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Receiver]:
    server = Receiver(tmp_path / "rotel")
    server.start()
    yield server
    server.stop()


def event(marker: str, i: int, **extra: object) -> AuditEvent:
    attrs: dict[str, object] = {
        "request_id": marker,
        "n": i,
        "http.response.status_code": 401,
        "roles": ["staff", "auditor"],
        "password": SECRET,
    }
    attrs.update(extra)
    return AuditEvent("auth.login.failed", "1.0", "auth.login.failed", attrs)


def handler_for(endpoint: str, **kwargs: object) -> OtlpLogHandler:
    handler = OtlpLogHandler(
        endpoint,
        resource_attributes={"deployment.environment": "test"},
        schedule_delay_millis=50,
        **kwargs,  # type: ignore[arg-type]
    )
    handler.setFormatter(JSONLLogFormatter(source="shop"))
    return handler


def test_records_arrive_with_the_engine_output(receiver: Receiver, logger: logging.Logger) -> None:
    handler = handler_for(receiver.endpoint)
    logger.addHandler(handler)
    marker = uuid.uuid4().hex
    # The line the same formatter writes on every other path.
    line = json.loads(JSONLLogFormatter(source="shop").format(_record(logger, event(marker, 0))))
    assert line["attributes"]["password"] == "[REDACTED]"
    for i in range(3):
        assert emit_event(logger, event(marker, i), logging.WARNING)
    handler.flush()

    rows = receiver.wait_for("request_id", f"Str({marker})", 3)
    assert len(rows) == 3
    assert [row.attributes["n"] for row in rows] == ["Int(0)", "Int(1)", "Int(2)"]
    row = rows[0]
    assert row.resource == {"service.name": "Str(shop)", "deployment.environment": "Str(test)"}
    assert row.scope == f"sec_audit.logging {line['instrumentation_scope']['version']}"
    assert row.fields["SeverityText"] == "WARNING"
    assert row.fields["SeverityNumber"] == "SEVERITY_NUMBER_WARN(13)"
    assert row.fields["Body"] == "Str(auth.login.failed)"
    assert row.fields["EventName"] == "auth.login.failed"
    assert int(row.fields["Timestamp"]) > 0
    assert int(row.fields["ObservedTimestamp"]) >= int(row.fields["Timestamp"])
    assert row.attributes["event_type"] == "Str(auth.login.failed)"
    assert row.attributes["http.response.status_code"] == "Int(401)"  # ints stay ints
    assert row.attributes["roles"] == "Slice(Str(staff), Str(auditor))"  # lists stay arrays
    assert row.attributes["password"] == "Str([REDACTED])"
    assert SECRET not in receiver.output.read_text(errors="replace")
    assert handler.dropped == 0 and handler.exported == 3


def _record(logger: logging.Logger, audit_event: AuditEvent) -> logging.LogRecord:
    record = logger.makeRecord(logger.name, logging.WARNING, __file__, 0, "", None, None)
    record.audit_event = audit_event
    return record


def test_trace_and_span_ids_arrive(receiver: Receiver, logger: logging.Logger) -> None:
    handler = handler_for(receiver.endpoint)
    logger.addHandler(handler)
    marker = uuid.uuid4().hex
    context = trace.SpanContext(
        0x0AF7651916CD43DD8448EB211C80319C, 0xB7AD6B7169203331, False, trace.TraceFlags(1)
    )
    with trace.use_span(trace.NonRecordingSpan(context)):
        emit_event(logger, event(marker, 0), logging.ERROR)
    handler.flush()
    (row,) = receiver.wait_for("request_id", f"Str({marker})", 1)
    assert row.fields["Trace ID"] == "0af7651916cd43dd8448eb211c80319c"
    assert row.fields["Span ID"] == "b7ad6b7169203331"
    assert row.fields["Flags"] == "1"
    assert row.fields["SeverityNumber"] == "SEVERITY_NUMBER_ERROR(17)"


def test_a_stalled_receiver_never_blocks_and_drops_are_counted(
    tmp_path: Path, logger: logging.Logger, internal: Capture
) -> None:
    # A listener that takes the connection (backlog) and never answers: the export
    # hangs in the background thread (30 s timeout) while the caller goes on.
    stall = socket.socket()
    stall.bind(("127.0.0.1", 0))
    stall.listen(16)
    port = stall.getsockname()[1]
    handler = handler_for(
        f"http://127.0.0.1:{port}/v1/logs",
        timeout=30.0,
        max_queue_size=4,
        max_export_batch_size=2,
    )
    logger.addHandler(handler)
    marker = uuid.uuid4().hex
    try:
        emit_event(logger, event(marker, 0), logging.WARNING)
        # The exporter thread has connected: it is inside export, waiting for an answer.
        assert select.select([stall], [], [], 20.0)[0], "the exporter never connected"
        for i in range(1, 20):
            emit_event(logger, event(marker, i), logging.WARNING)
        # Every emit returned while that export is outstanding: 1 in flight, 3 queued
        # (max_queue_size=4), the other 16 dropped, counted and reported.
        assert (handler.exported, handler.dropped) == (0, 16)
        dropped = [m for m in internal.lines if m.startswith("audit.otlp_dropped: ")]
        assert len(dropped) == 1  # rate-limited: one line for the burst
    finally:
        stall.close()  # resets the stalled connection; the exporter retries
    # A real receiver on that port: the retried export and the queued ones arrive.
    server = Receiver(tmp_path / "after-stall", port=port)
    server.start()
    try:
        handler.close()
        rows = server.wait_for("request_id", f"Str({marker})", 4)
    finally:
        server.stop()
    assert (handler.exported, handler.dropped) == (4, 16)
    assert sorted(row.attributes["n"] for row in rows) == [f"Int({i})" for i in range(4)]


def test_a_receiver_that_is_down_then_comes_back(
    tmp_path: Path, logger: logging.Logger, internal: Capture
) -> None:
    port = free_port()
    handler = handler_for(f"http://127.0.0.1:{port}/v1/logs", timeout=1.0)
    logger.addHandler(handler)
    marker = uuid.uuid4().hex
    for i in range(3):
        emit_event(logger, event(marker, i, phase="down"), logging.WARNING)
    handler.flush()  # nothing listens: the batch fails after the exporter's retry
    assert handler.dropped == 3 and handler.exported == 0
    undelivered = [m for m in internal.lines if m.startswith("audit.otlp_undelivered: ")]
    assert len(undelivered) == 1 and "3 dropped in total" in undelivered[0]

    server = Receiver(tmp_path / "back", port=port)
    server.start()
    try:
        for i in range(3, 6):
            emit_event(logger, event(marker, i, phase="back"), logging.WARNING)
        handler.flush()
        rows = server.wait_for("request_id", f"Str({marker})", 3)
        assert [row.attributes["n"] for row in rows] == ["Int(3)", "Int(4)", "Int(5)"]
        assert {row.attributes["phase"] for row in rows} == {"Str(back)"}
        assert handler.exported == 3 and handler.dropped == 3
        assert any(m.startswith("audit.otlp_resumed: ") for m in internal.lines)
        handler.close()
    finally:
        server.stop()


def test_without_the_audit_formatter_nothing_is_sent(
    logger: logging.Logger, internal: Capture
) -> None:
    handler = OtlpLogHandler(f"http://127.0.0.1:{free_port()}/v1/logs")
    logger.addHandler(handler)
    logger.warning("password=%s", SECRET)
    assert handler.dropped == 1 and handler._pipeline is None
    assert any(m.startswith("audit.otlp_misconfigured: ") for m in internal.lines)


def test_without_the_extra_configuration_fails_and_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry.sdk._logs", None)  # import fails
    with pytest.raises(ImportError) as info:
        OtlpLogHandler()
    assert str(info.value) == (
        "OtlpLogHandler needs the otlp extra: pip install 'django-sec-audit[otlp]'"
    )


def test_configuration_errors_are_short() -> None:
    with pytest.raises(ValueError, match="max_queue_size must be an int >= 1"):
        OtlpLogHandler(max_queue_size=0)
    with pytest.raises(ValueError, match="endpoint must be an http"):
        OtlpLogHandler("collector:4318")


@pytest.mark.parametrize("preload", [False, True], ids=["fork", "preload"])
def test_gunicorn_workers_each_export_every_record_once(
    tmp_path: Path, receiver: Receiver, preload: bool
) -> None:
    # 4 workers, 16 clients: every worker builds its own exporter and thread (also when
    # the app was loaded in the master with --preload); every request's record arrives
    # exactly once, with the worker's engine output.
    from .test_delivery_gunicorn import Server, _drive

    env = {"DELIVERY_PATH": "otlp", "DELIVERY_OTLP_ENDPOINT": receiver.endpoint}
    server = Server(env, preload, tmp_path)
    try:
        markers = _drive(server, 400, None)
    finally:
        server.stop()  # workers flush at exit
    paths = sorted(f"Str(/hit/{m}/)" for m in markers)

    def arrived(rows: list[Decoded]) -> list[str]:
        return sorted(p for r in rows if (p := r.attributes.get("url.path", "")) in wanted)

    wanted = set(paths)
    rows = receiver.wait_until(lambda rows: len(arrived(rows)) >= len(paths))
    assert arrived(rows) == paths  # each exactly once
    assert {row.resource["service.name"] for row in rows} == {"Str(delivery-test)"}


def test_resources_are_bounded_and_the_overflow_reported(
    logger: logging.Logger, internal: Capture
) -> None:
    handler = OtlpLogHandler(f"http://127.0.0.1:{free_port()}/v1/logs", timeout=1.0)
    handler.setFormatter(JSONLLogFormatter())  # service.name from each record
    logger.addHandler(handler)
    for i in range(18):
        record = logger.makeRecord(logger.name, logging.WARNING, __file__, 0, "", None, None)
        record.audit_event = event("m", i)
        record.resource_source = f"svc{i}"
        logger.handle(record)
    assert handler._pipeline is not None and len(handler._pipeline.providers) == 16
    assert [m for m in internal.lines if m.startswith("audit.otlp_resources: ")] != []
