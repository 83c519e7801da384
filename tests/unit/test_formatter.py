"""JSONLLogFormatter through real logging: envelope, scope, merge, size bound, fallbacks.

The formatter builds its engine with the default selection, so the two test runs
(SEC_AUDIT_ENGINE=native and =python) cover both engines.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

import sec_audit
from sec_audit.core.events import AuditEvent
from sec_audit.logging.emission import emit_event
from sec_audit.logging.formatters import JSONLLogFormatter

from ._logging_helpers import Capture, internal_capture

ENVELOPE_KEYS = [
    "timestamp",
    "observed_timestamp",
    "severity_text",
    "severity_number",
    "body",
    "resource",
    "instrumentation_scope",
    "attributes",
    "event_name",
]
MALFORMED = "audit.logging.malformed_record"
SCOPE = {"name": "sec_audit.logging", "version": sec_audit.__version__}


@pytest.fixture
def internal() -> Iterator[Capture]:
    with internal_capture() as capture:
        yield capture


class Sink:
    """A logger with one StreamHandler on a StringIO, using the given formatter."""

    _count = 0

    def __init__(self, formatter: logging.Formatter) -> None:
        Sink._count += 1
        self.stream = io.StringIO()
        self.logger = logging.getLogger(f"tests.formatter.{Sink._count}")
        self.logger.handlers.clear()
        self.logger.propagate = False
        self.logger.setLevel(logging.DEBUG)
        handler = logging.StreamHandler(self.stream)
        handler.setFormatter(formatter)
        self.logger.addHandler(handler)

    def emit(self, event: AuditEvent, level: int = logging.INFO) -> dict[str, Any]:
        assert emit_event(self.logger, event, level)
        return json.loads(self.last())

    def lines(self) -> list[str]:
        text = self.stream.getvalue()
        assert text.endswith("\n")
        return text[:-1].split("\n")

    def last(self) -> str:
        return self.lines()[-1]


def sink(**kwargs: Any) -> Sink:
    return Sink(JSONLLogFormatter(**kwargs))


def http_event(**extra: Any) -> AuditEvent:
    attrs: dict[str, Any] = {
        "request_id": "0123456789abcdef0123456789abcdef",
        "session.id": "sess-1",
        "source.address": "127.0.0.1",
        "http.request.method": "GET",
        "http.response.status_code": 404,
        "url.full": "http://testserver/items/7/",
        "url.path": "/items/7/",
        "user.id": "1",
        "action.name": "response",
        "action.result": "failure",
        "outcome": "failure",
        "duration_ns": 243621,
    }
    attrs.update(extra)
    return AuditEvent(
        "http.response.client_error", "1.0", "http.response", attrs, 1795901300554341516, None
    )


# -- the envelope ------------------------------------------------------------------------


def test_envelope_key_order_values_and_exact_bytes() -> None:
    out = sink(source="myapp")
    event = http_event()
    obj = out.emit(event, logging.WARNING)
    assert list(obj) == ENVELOPE_KEYS
    assert obj["timestamp"] == 1795901300554341516
    assert isinstance(obj["observed_timestamp"], int) and obj["observed_timestamp"] > 0
    assert obj["severity_text"] == "WARNING" and obj["severity_number"] == 13
    assert obj["body"] == "http.response"
    assert obj["resource"] == {"service.name": "myapp"}
    assert obj["instrumentation_scope"] == SCOPE
    assert list(obj["attributes"]) == ["event_type", "schema_version", *list(event.attributes)[2:]]
    assert obj["attributes"]["event_type"] == "http.response.client_error"
    assert obj["attributes"]["session.id"] == "sess-1"  # B1: never key-redacted
    assert obj["event_name"] == "http.response.client_error"
    # Default json.dumps formatting, byte for byte.
    assert out.last() == json.dumps(obj)


def test_compact_separators() -> None:
    default, compact = sink(), sink(compact=True)
    a, b = default.emit(http_event()), compact.emit(http_event())
    assert ", " in default.last() and ": " in default.last()
    assert compact.last() == json.dumps(b, separators=(",", ":"))
    assert list(a) == list(b)


def test_severity_from_levelno_including_custom_levels() -> None:
    out = sink()
    assert out.emit(http_event(), logging.ERROR)["severity_number"] == 17
    obj = out.emit(http_event(), 25)
    assert (obj["severity_text"], obj["severity_number"]) == ("Level 25", 9)
    obj = out.emit(http_event(), logging.CRITICAL)
    assert (obj["severity_text"], obj["severity_number"]) == ("CRITICAL", 21)


def test_service_name_precedence() -> None:
    settings = {"core": {"source": "from-settings"}}
    assert sink(settings=settings).emit(http_event())["resource"] == {
        "service.name": "from-settings"
    }
    out = sink(settings=settings)
    out.logger.info("x", extra={"audit_event": http_event(), "resource_source": "from-record"})
    assert json.loads(out.last())["resource"] == {"service.name": "from-record"}
    out = sink(settings=settings, source="from-kwarg")
    out.logger.info("x", extra={"audit_event": http_event(), "resource_source": "from-record"})
    assert json.loads(out.last())["resource"] == {"service.name": "from-kwarg"}
    assert sink().emit(http_event())["resource"] == {"service.name": "sec-audit"}


def test_scope_name_and_version() -> None:
    obj = sink(scope_name="sec_audit.django").emit(http_event())
    assert obj["instrumentation_scope"] == {"name": "sec_audit.django", "version": "0.2.0"}


def test_observed_timestamp_falls_back_to_record_created() -> None:
    out = sink()
    record = logging.makeLogRecord(
        {"audit_event": http_event(), "levelno": 20, "levelname": "INFO", "created": 1700000000.5}
    )
    obj = json.loads(out.logger.handlers[0].format(record))
    assert obj["observed_timestamp"] == 1700000000500000000


def test_trace_fields_from_otel_record_attributes() -> None:
    out = sink()
    extra = {
        "audit_event": http_event(),
        "otelTraceID": "4bf92f3577b34da6a3ce929d0e0e4736",
        "otelSpanID": "00f067aa0ba902b7",
        "otelTraceSampled": True,
    }
    out.logger.info("x", extra=extra)
    obj = json.loads(out.last())
    assert list(obj) == [*ENVELOPE_KEYS, "trace_id", "span_id", "trace_flags"]
    assert obj["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert obj["span_id"] == "00f067aa0ba902b7"
    assert obj["trace_flags"] == 1
    out.logger.info("x", extra={**extra, "otelTraceSampled": False})
    assert json.loads(out.last())["trace_flags"] == 0


def test_trace_fields_from_the_span_captured_at_emission() -> None:
    out = sink()
    out.logger.info(
        "x", extra={"audit_event": http_event(), "audit_trace": ("a" * 32, "b" * 16, 0)}
    )
    obj = json.loads(out.last())
    assert (obj["trace_id"], obj["span_id"], obj["trace_flags"]) == ("a" * 32, "b" * 16, 0)
    assert "trace_id" not in sink().emit(http_event())


# -- attributes ----------------------------------------------------------------------------


def test_additions_override_append_and_cannot_touch_protected_keys() -> None:
    out = sink()
    additions = {
        "user.id": "override",
        "tenant": "acme",
        "request_id": "forged",
        "event_type": "forged",
        "session.id": "forged",
        7: "int key",
    }
    out.logger.info("x", extra={"audit_event": http_event(), "audit_attributes": additions})
    attrs = json.loads(out.last())["attributes"]
    assert attrs["user.id"] == "override"
    assert list(attrs)[-1] == "tenant"
    assert attrs["request_id"] == "0123456789abcdef0123456789abcdef"
    assert attrs["event_type"] == "http.response.client_error"
    assert attrs["session.id"] == "sess-1"
    assert "7" not in attrs


def test_max_attributes_is_one_cap_on_the_merged_map() -> None:
    out = sink(settings={"logging": {"projection_limits": {"max_attributes": 3}}})
    event = AuditEvent("model.create", "1.0", "model.event", {"model": "item"})
    out.logger.info("x", extra={"audit_event": event, "audit_attributes": {"a": 1, "b": 2}})
    attrs = json.loads(out.last())["attributes"]
    assert attrs == {
        "event_type": "model.create",
        "schema_version": "1.0",
        "model": "item",
        "_truncated": "[TRUNCATED]",
    }


def test_scrubbing_happens_in_the_render() -> None:
    out = sink(settings={"core": {"sensitive_value_patterns": [r"hunter\d"]}})
    obj = out.emit(http_event(password="x", note="pw hunter2", nested={"api_key": 1}))
    attrs = obj["attributes"]
    assert attrs["password"] == "[REDACTED]"
    assert attrs["note"] == "[REDACTED]"
    assert attrs["nested"] == {"api_key": "[REDACTED]"}


def test_unserializable_enricher_values_cost_only_their_field() -> None:
    class Thing:
        pass

    out = sink()
    obj = out.emit(http_event(s={1}, f=float("nan"), o=Thing(), ok="fine"))
    attrs = obj["attributes"]
    assert attrs["s"] == "<unserializable:builtins.set>"
    assert attrs["f"] == "nan"
    assert attrs["o"].startswith("<unserializable:") and attrs["o"].endswith(".Thing>")
    assert attrs["ok"] == "fine"


def test_non_ascii_is_escaped() -> None:
    out = sink()
    out.emit(http_event(**{"url.path": "/caf\u00e9/\U0001f600"}))
    assert "\\u00e9" in out.last() and "\\ud83d\\ude00" in out.last()
    assert out.last().isascii()


# -- fallbacks ---------------------------------------------------------------------------


def fallback_dict(ns: int, service: str = "sec-audit", schema: str = "unknown") -> dict[str, Any]:
    return {
        "timestamp": ns,
        "observed_timestamp": ns,
        "severity_text": "ERROR",
        "severity_number": 17,
        "body": MALFORMED,
        "resource": {"service.name": service},
        "instrumentation_scope": SCOPE,
        "attributes": {"event_type": MALFORMED, "schema_version": schema},
        "event_name": MALFORMED,
    }


def created_ns(out: Sink) -> int:
    return int(json.loads(out.last())["timestamp"])


def test_non_audit_record_is_a_readable_malformed_line_reported_once(internal: Capture) -> None:
    # Issue 11.2: logger, level and the (scrubbed) message, not an empty line.
    out = sink()
    out.logger.info("key AKIAIOSFODNN7EXAMPLE in a message")
    out.logger.warning("disk %s is %d%% full", "/var", 93)
    first, second = (json.loads(line) for line in out.lines())
    assert first["body"] == MALFORMED and first["event_name"] == MALFORMED
    assert first["severity_text"] == "INFO"
    assert first["attributes"]["event_type"] == MALFORMED
    assert first["attributes"]["log.logger"] == out.logger.name
    assert first["attributes"]["log.level"] == "INFO"
    # Scrubbed like any attribute value (detectors, value patterns).
    assert "AKIAIOSFODNN7EXAMPLE" not in out.stream.getvalue()
    assert second["severity_text"] == "WARNING"
    assert second["attributes"]["log.message"] == "disk /var is 93% full"
    assert list(second) == ENVELOPE_KEYS
    assert internal.reasons == ["audit.non_audit_record"]


def test_non_audit_record_with_bad_args_keeps_the_template(internal: Capture) -> None:
    formatter = JSONLLogFormatter()
    record = logging.getLogger("app").makeRecord(
        "app", logging.INFO, "f", 1, "value %d", ("x",), None
    )
    assert json.loads(formatter.format(record))["attributes"]["log.message"] == "value %d"


def test_internal_diagnostics_routed_here_are_readable_and_do_not_report(
    internal: Capture,
) -> None:
    formatter = JSONLLogFormatter()
    record = logging.getLogger("sec_audit.internal").makeRecord(
        "sec_audit.internal", logging.WARNING, "f", 1, "audit.enricher_failed: raised", (), None
    )
    line = json.loads(formatter.format(record))
    assert line["body"] == MALFORMED
    assert line["attributes"]["log.message"] == "audit.enricher_failed: raised"
    assert line["severity_text"] == "WARNING"
    assert internal.reasons == []


def test_non_audit_record_that_cannot_render_is_the_empty_fallback(internal: Capture) -> None:
    formatter = JSONLLogFormatter(engine=RaisingEngine())
    record = logging.makeLogRecord(
        {"name": "app", "msg": "x", "created": 1.5, "levelno": 20, "levelname": "INFO"}
    )
    assert formatter.format(record) == json.dumps(fallback_dict(1_500_000_000))


class RaisingEngine:
    name = "raising"

    def render_event(self, *members: Any, compact: bool = False) -> str:
        raise RuntimeError("engine broke")


def test_render_failure_falls_back_and_reports_type(internal: Capture) -> None:
    out = sink(engine=RaisingEngine(), settings={"core": {"source": "svc"}})
    out.emit(http_event())
    obj = json.loads(out.last())
    assert obj == fallback_dict(obj["timestamp"], service="svc", schema="1.0")
    assert internal.reasons == ["audit.format_failed"]
    assert "builtins.RuntimeError" in internal.lines[0]


def test_real_render_failure_huge_int(internal: Capture) -> None:
    out = sink()
    out.emit(http_event(big=10**5000))
    assert json.loads(out.last())["body"] == MALFORMED
    assert internal.reasons == ["audit.format_failed"]
    assert "ValueError" in internal.lines[0]


def test_compact_fallback() -> None:
    out = sink(compact=True)
    out.logger.info("plain")
    obj = json.loads(out.last())
    assert out.last() == json.dumps(obj, separators=(",", ":"))


# -- size bound (B6) -------------------------------------------------------------------------

LIMIT = {"logging": {"projection_limits": {"max_record_bytes": 1024}}}


def test_oversize_record_loses_largest_non_core_attributes_first(internal: Capture) -> None:
    out = sink(settings=LIMIT)
    event = http_event(small="s" * 50, big="b" * 500, mid="m" * 300, tiny=1)
    full = sink().emit(event)  # unbounded reference rendering
    obj = out.emit(event)
    line = out.last()
    assert len(line) <= 1024
    attrs = obj["attributes"]
    assert attrs["big"] == "[TRUNCATED]"
    # Only as many as needed, largest first; everything else untouched.
    expected = dict(full["attributes"])
    expected["big"] = "[TRUNCATED]"
    if len(json.dumps({**full, "attributes": {**expected, "audit.degraded": 1}})) > 1024:
        expected["mid"] = "[TRUNCATED]"
    dropped = sum(1 for k in ("big", "mid") if expected[k] == "[TRUNCATED]")
    expected["audit.degraded"] = dropped
    assert attrs == expected
    assert list(attrs) == list(expected)
    assert obj["timestamp"] == full["timestamp"] and obj["body"] == full["body"]
    assert line == json.dumps(obj)
    assert internal.reasons == ["audit.record_degraded"]
    assert "big" in internal.lines[0] and "max_record_bytes=1024" in internal.lines[0]


def test_degrade_order_and_core_attributes_kept(internal: Capture) -> None:
    out = sink(settings=LIMIT, compact=True)
    event = http_event(a="a" * 400, b="b" * 390, c="c" * 60, d=["x" * 10] * 5)
    obj = out.emit(event)
    assert len(out.last()) <= 1024
    assert out.last() == json.dumps(obj, separators=(",", ":"))
    attrs = obj["attributes"]
    assert (attrs["a"], attrs["b"]) == ("[TRUNCATED]", "[TRUNCATED]")
    assert attrs["c"] == "c" * 60
    assert attrs["d"] == ["x" * 10] * 5
    assert attrs["audit.degraded"] == 2
    for key in ("request_id", "url.path", "user.id", "http.response.status_code", "outcome"):
        assert attrs[key] == event.attributes[key]


def test_too_large_even_when_degraded_uses_malformed_record(internal: Capture) -> None:
    out = sink(settings=LIMIT)
    out.emit(http_event(**{"url.path": "/" + "p" * 1500}))
    obj = json.loads(out.last())
    assert obj == fallback_dict(obj["timestamp"], schema="1.0")
    assert internal.reasons == ["audit.record_too_large"]


def test_minimal_fallback_cuts_service_name_and_drops_scope(internal: Capture) -> None:
    out = sink(settings=LIMIT, source="s" * 2000)
    out.emit(http_event())
    obj = json.loads(out.last())
    assert list(obj) == [
        "timestamp",
        "observed_timestamp",
        "severity_text",
        "severity_number",
        "body",
        "resource",
        "attributes",
        "event_name",
    ]
    assert obj["resource"] == {"service.name": "s" * 256}
    assert obj["attributes"] == {"event_type": MALFORMED, "schema_version": "1.0"}
    assert internal.reasons == ["audit.record_too_large"]


def test_last_resort_fallback() -> None:
    # 256 escaped snowmen (6 bytes each) make even the minimal record too large.
    out = sink(settings=LIMIT, source="\u2603" * 2000)
    out.emit(http_event())
    obj = json.loads(out.last())
    assert obj == {
        "timestamp": obj["timestamp"],
        "observed_timestamp": obj["timestamp"],
        "severity_text": "ERROR",
        "severity_number": 17,
        "body": MALFORMED,
        "attributes": {"event_type": MALFORMED},
        "event_name": MALFORMED,
    }


def test_non_str_service_name_in_fallback() -> None:
    class BadStr:
        def __str__(self) -> str:
            raise RuntimeError

    out = sink(engine=RaisingEngine())
    out.logger.info("x", extra={"audit_event": http_event(), "resource_source": BadStr()})
    assert json.loads(out.last())["resource"] == {"service.name": "sec-audit"}
    out.logger.info("x", extra={"audit_event": http_event(), "resource_source": 42})
    assert json.loads(out.last())["resource"] == {"service.name": "42"}


def test_bad_additions_are_ignored_and_reported(internal: Capture) -> None:
    out = sink()
    out.logger.info("x", extra={"audit_event": http_event(), "audit_attributes": ["nope"]})
    assert json.loads(out.last())["attributes"]["user.id"] == "1"
    assert internal.reasons == ["audit.additions_ignored"]


def test_exc_info_and_fmt_are_ignored() -> None:
    out = Sink(JSONLLogFormatter("%(message)s %(asctime)s"))
    try:
        raise ValueError("boom")
    except ValueError:
        out.logger.exception("x", extra={"audit_event": http_event()})
    assert len(out.lines()) == 1
    assert "Traceback" not in out.stream.getvalue()
    assert json.loads(out.last())["body"] == "http.response"


# -- the finish seam (integrity sealing hooks here) ------------------------------------------


class Sealing(JSONLLogFormatter):
    SUFFIX = "#" * 100

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.reserved_bytes = len(self.SUFFIX)

    def finish(self, line: str) -> str:
        return line + self.SUFFIX


def test_finish_runs_on_every_line_and_its_bytes_are_reserved(internal: Capture) -> None:
    out = Sink(Sealing(settings=LIMIT))
    out.logger.info("x", extra={"audit_event": http_event(big="b" * 850)})
    out.logger.info("plain")
    degraded, fallback = out.lines()
    assert degraded.endswith(Sealing.SUFFIX) and len(degraded) <= 1024
    assert json.loads(degraded[: -len(Sealing.SUFFIX)])["attributes"]["big"] == "[TRUNCATED]"
    assert fallback.endswith(Sealing.SUFFIX)
    assert json.loads(fallback[: -len(Sealing.SUFFIX)])["body"] == MALFORMED


def test_a_failing_finish_keeps_the_line(internal: Capture) -> None:
    class Broken(JSONLLogFormatter):
        def finish(self, line: str) -> str:
            raise RuntimeError("no key")

    out = Sink(Broken())
    out.logger.info("x", extra={"audit_event": http_event()})
    assert json.loads(out.last())["body"] == "http.response"
    assert internal.reasons == ["audit.format_failed"]
