"""`emit_event` without a LogRecord (emission.EventFields) writes the bytes the record
path writes, and takes the record path whenever anything could tell the difference.

"Direct" is detected by the logger's `makeRecord` not being called; the record path is
forced by a pass-through logger filter (which changes nothing else). The clocks the
two paths read are fixed, so the lines must be equal byte for byte.
"""

from __future__ import annotations

import io
import logging
import logging.handlers
from collections.abc import Iterator
from typing import Any

import pytest

from sec_audit.core.events import AuditEvent, EventType, event_body, event_level
from sec_audit.logging import delivery, emission
from sec_audit.logging.emission import emit_event
from sec_audit.logging.formatters import JSONLLogFormatter

OBSERVED_NS = 1_700_000_000_999_000_000

_counter = 0


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    class Clock:
        @staticmethod
        def time_ns() -> int:
            return OBSERVED_NS

        @staticmethod
        def time() -> float:
            return OBSERVED_NS / 1e9

    monkeypatch.setattr(emission, "time", Clock)
    monkeypatch.setattr(logging, "time", Clock)  # LogRecord.created (fallback lines)


@pytest.fixture
def target() -> Iterator[tuple[logging.Logger, io.StringIO, list[int]]]:
    """A fresh logger with one StreamHandler(StringIO) and our formatter; the list
    counts the records made."""
    global _counter
    _counter += 1
    logger = logging.getLogger(f"tests.direct_emission.{_counter}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JSONLLogFormatter(settings={"core": {"source": "svc"}}))
    logger.handlers[:] = [handler]
    made: list[int] = []
    real = logger.makeRecord

    def counting(*args: Any, **kwargs: Any) -> logging.LogRecord:
        made.append(1)
        return real(*args, **kwargs)

    logger.makeRecord = counting  # type: ignore[method-assign]
    yield logger, stream, made
    logger.handlers.clear()
    logger.filters.clear()


def _emit(logger: logging.Logger, event: AuditEvent, level: int) -> bool:
    # pytest's log capture attaches its own handlers to the test's loggers while the
    # test runs (and they would rightly send every event down the record path).
    logger.handlers[:] = [
        h for h in logger.handlers if not type(h).__module__.startswith("_pytest")
    ]
    return emit_event(logger, event, level)


def _events() -> list[tuple[AuditEvent, int]]:
    """One event of every kind, with the attributes that kind carries, at its level."""
    out = []
    for name, value in vars(EventType).items():
        if name.startswith("_") or not isinstance(value, str):
            continue
        attrs: dict[str, Any] = {
            "request_id": "4f1c2b9e8d7a4c3b9a8f7e6d5c4b3a29",
            "source.address": "203.0.113.7",
            "url.full": "https://shop.example.com/p?token=abc",
            "user.id": "42",
            "password": "hunter2",
            "nested": {"api_key": "sk_live_0123456789abcdefABCDEF", "n": [1, 2.5, None]},
        }
        event = AuditEvent(value, "1.0", event_body(value), attrs, 1_700_000_000_123_456_789)
        out.append((event, event_level(value)))
    return out


def _lines(logger: logging.Logger, stream: io.StringIO, events: Any) -> str:
    stream.seek(0)
    stream.truncate()
    for event, level in events:
        assert _emit(logger, event, level)
    return stream.getvalue()


def _both_ways(logger: logging.Logger, stream: io.StringIO, made: list[int], events: Any) -> str:
    direct = _lines(logger, stream, events)
    assert made == [], "the direct path made a LogRecord"
    logger.addFilter(lambda record: True)
    general = _lines(logger, stream, events)
    logger.filters.clear()
    assert len(made) == len(events), "the filtered logger did not take the record path"
    assert direct == general
    return direct


def test_every_event_kind_is_written_the_same_both_ways(fixed_clock: None, target: Any) -> None:
    logger, stream, made = target
    events = _events()
    assert len(events) >= 15
    text = _both_ways(logger, stream, made, events)
    assert text.count("\n") == len(events)
    assert "hunter2" not in text and "sk_live_0123" not in text


@pytest.mark.parametrize("compact", [False, True])
def test_compact_and_trace_ids(
    fixed_clock: None, target: Any, monkeypatch: pytest.MonkeyPatch, compact: bool
) -> None:
    logger, stream, made = target
    logger.handlers[0].setFormatter(JSONLLogFormatter(compact=compact))
    monkeypatch.setattr(emission, "active_trace", lambda: ("a" * 32, "b" * 16, 1))
    text = _both_ways(logger, stream, made, _events()[:3])
    assert '"trace_id"' in text


def test_oversized_and_failing_renders_fall_back_alike(
    fixed_clock: None, target: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    logger, stream, made = target
    big = AuditEvent(
        "http.response.client_error",
        "1.0",
        "http.response",
        {f"k{i}": "x" * 2000 for i in range(200)},
        1_700_000_000_000_000_000,
    )
    text = _both_ways(logger, stream, made, [(big, logging.WARNING)])
    assert "[TRUNCATED]" in text or "malformed_record" in text
    formatter = logger.handlers[0].formatter
    assert isinstance(formatter, JSONLLogFormatter)

    def boom(*args: Any) -> str:
        raise RuntimeError("render failed")

    monkeypatch.setattr(formatter, "engine", type("E", (), {"render_event": staticmethod(boom)})())
    made.clear()
    text = _both_ways(logger, stream, made, _events()[:1])
    assert "audit.logging.malformed_record" in text


def test_levels_are_honoured_per_handler(fixed_clock: None, target: Any) -> None:
    logger, stream, made = target
    logger.handlers[0].setLevel(logging.ERROR)
    quiet = AuditEvent("auth.login.failed", "1.0", "auth.login.failed", {}, 1)
    assert _both_ways(logger, stream, made, [(quiet, logging.WARNING)]) == ""


def _plain_formatter(logger: logging.Logger) -> None:
    logger.handlers[0].setFormatter(logging.Formatter("%(message)s"))


def _subclassed_formatter(logger: logging.Logger) -> None:
    class Mine(JSONLLogFormatter):
        pass

    logger.handlers[0].setFormatter(Mine())


def _handler_filter(logger: logging.Logger) -> None:
    logger.handlers[0].addFilter(lambda record: True)


def _subclassed_handler(logger: logging.Logger) -> None:
    class Mine(logging.StreamHandler):  # type: ignore[type-arg]
        pass

    old = logger.handlers[0]
    new = Mine(old.stream)  # type: ignore[attr-defined]
    new.setFormatter(old.formatter)
    logger.handlers[:] = [new]


def _unknown_handler_too(logger: logging.Logger) -> None:
    logger.addHandler(logging.handlers.QueueHandler(__import__("queue").Queue()))


def _no_handler(logger: logging.Logger) -> None:
    logger.handlers.clear()


def _handler_without_lock(logger: logging.Logger) -> None:
    # What a handler whose createLock was replaced looks like: nothing to write under.
    handler = logger.handlers[0]
    lock = handler.lock
    handler.lock = None
    logger._test_cleanup = lambda: setattr(handler, "lock", lock)  # type: ignore[attr-defined]


def _propagates_to_a_plain_handler(logger: logging.Logger) -> None:
    parent = logger.parent
    assert parent is not None
    handler = logging.StreamHandler(io.StringIO())
    parent.addHandler(handler)
    logger.propagate = True
    logger._test_cleanup = lambda: parent.removeHandler(handler)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "change",
    [
        _plain_formatter,
        _subclassed_formatter,
        _handler_filter,
        _subclassed_handler,
        _unknown_handler_too,
        _no_handler,
        _handler_without_lock,
        _propagates_to_a_plain_handler,
    ],
)
def test_any_other_configuration_takes_the_record_path(target: Any, change: Any) -> None:
    logger, _stream, made = target
    event = _events()[0][0]
    assert _emit(logger, event, logging.INFO) and made == []
    change(logger)
    try:
        _emit(logger, event, logging.INFO)
        assert made == [1]
    finally:
        getattr(logger, "_test_cleanup", lambda: None)()


def test_a_record_factory_is_noticed_on_the_next_event(target: Any) -> None:
    logger, _stream, made = target
    stock = logging.getLogRecordFactory()
    logging.setLogRecordFactory(lambda *a, **k: stock(*a, **k))
    try:
        assert _emit(logger, _events()[0][0], logging.INFO)
        assert made == [1]
    finally:
        logging.setLogRecordFactory(stock)
    assert _emit(logger, _events()[0][0], logging.INFO)
    assert made == [1]  # back on the direct path


def test_a_disabled_logger_writes_nothing(target: Any) -> None:
    logger, stream, _made = target
    logger.disabled = True
    try:
        _emit(logger, _events()[0][0], logging.INFO)
    finally:
        logger.disabled = False
    assert stream.getvalue() == ""


def test_null_handlers_are_skipped_and_the_rest_written(fixed_clock: None, target: Any) -> None:
    logger, stream, made = target
    logger.addHandler(logging.NullHandler())
    _both_ways(logger, stream, made, _events()[:2])


@pytest.mark.parametrize("how", ["class", "made_safe", "rotating"])
def test_the_cross_process_write_path_is_used_for_safe_handlers(
    fixed_clock: None, target: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    logger, _stream, made = target
    monkeypatch.setenv(delivery.LOCK_DIR_ENV_VAR, str(tmp_path / "locks"))
    path = tmp_path / "audit.jsonl"
    handler: logging.Handler
    if how == "class":
        handler = delivery.SafeFileHandler(path)
    elif how == "made_safe":
        handler = logging.FileHandler(path)
        assert delivery.make_safe(handler)
    else:
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=1 << 20, backupCount=1)
        assert delivery.make_safe(handler)
    handler.setFormatter(logger.handlers[0].formatter)
    logger.handlers[:] = [handler]
    written: list[str] = []
    real = delivery.write_line

    def spy(h: Any, line: str) -> None:
        written.append(line)
        real(h, line)

    monkeypatch.setattr(delivery, "write_line", spy)
    events = _events()[:4]
    for event, level in events:
        _emit(logger, event, level)
    assert made == [] and len(written) == 4
    direct = path.read_text()
    path.write_text("")
    logger.addFilter(lambda record: True)
    for event, level in events:
        _emit(logger, event, level)
    handler.close()
    assert len(made) == 4 and len(written) == 8
    assert path.read_text() == direct


def test_a_failing_write_goes_to_handle_error_with_a_record(target: Any) -> None:
    logger, _stream, _made = target

    class Broken(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError("disk full")

    handler = logger.handlers[0]
    handler.setStream(Broken())  # type: ignore[attr-defined]
    seen: list[logging.LogRecord] = []
    handler.handleError = seen.append  # type: ignore[method-assign]
    assert _emit(logger, _events()[0][0], logging.INFO)
    (record,) = seen
    assert isinstance(record, logging.LogRecord)
    assert isinstance(record.audit_event, AuditEvent)  # type: ignore[attr-defined]
