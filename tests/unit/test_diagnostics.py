"""sec_audit.internal diagnostics: one line per reason per window, with a count."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest

from sec_audit.logging import diagnostics


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    @property
    def lines(self) -> list[str]:
        return [r.getMessage() for r in self.records]


@pytest.fixture
def internal(monkeypatch: pytest.MonkeyPatch) -> Iterator[Capture]:
    now = [1000.0]
    monkeypatch.setattr(diagnostics, "clock", lambda: now[0])
    diagnostics.reset()
    logger = logging.getLogger("sec_audit.internal")
    handler = Capture()
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    handler.now = now  # type: ignore[attr-defined]
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        diagnostics.reset()


def advance(capture: Capture, seconds: float) -> None:
    capture.now[0] += seconds  # type: ignore[attr-defined]


def test_first_report_is_written_with_reason_prefix(internal: Capture) -> None:
    assert diagnostics.report("audit.emit_failed", "lost one") is True
    assert internal.lines == ["audit.emit_failed: lost one"]
    record = internal.records[0]
    assert record.levelno == logging.WARNING
    assert record.name == "sec_audit.internal"
    assert record.audit_reason == "audit.emit_failed"  # type: ignore[attr-defined]


def test_same_reason_is_suppressed_inside_the_window_and_counted(internal: Capture) -> None:
    diagnostics.report("r.one", "a")
    assert diagnostics.report("r.one", "b") is False
    assert diagnostics.report("r.one", "c") is False
    advance(internal, 59.9)
    assert diagnostics.report("r.one", "d") is False
    advance(internal, 0.2)
    assert diagnostics.report("r.one", "e") is True
    assert internal.lines == ["r.one: a", "r.one: e [3 similar suppressed in the last 60s]"]
    assert internal.records[1].audit_suppressed == 3  # type: ignore[attr-defined]
    advance(internal, 61)
    diagnostics.report("r.one", "f")
    assert internal.lines[-1] == "r.one: f"


def test_reasons_are_throttled_independently(internal: Capture) -> None:
    diagnostics.report("r.a", "1")
    diagnostics.report("r.b", "2")
    diagnostics.report("r.a", "3")
    assert internal.lines == ["r.a: 1", "r.b: 2"]


def test_exception_type_is_named_but_not_its_message(internal: Capture) -> None:
    diagnostics.report("r.exc", "failed", exc=ValueError("password=hunter2"))
    assert internal.lines == ["r.exc: failed (builtins.ValueError)"]
    assert internal.records[0].exc_info is None


def test_level_is_honoured_and_disabled_level_is_not_counted(internal: Capture) -> None:
    diagnostics.report("r.err", "x", level=logging.ERROR)
    assert internal.records[0].levelno == logging.ERROR
    logging.getLogger("sec_audit.internal").setLevel(logging.ERROR)
    assert diagnostics.report("r.warn", "not seen") is False
    logging.getLogger("sec_audit.internal").setLevel(logging.DEBUG)
    assert diagnostics.report("r.warn", "seen") is True
    assert internal.lines[-1] == "r.warn: seen"


def test_debug_is_not_throttled(internal: Capture) -> None:
    for _ in range(3):
        diagnostics.debug("r.dbg", "detail")
    assert internal.lines == ["r.dbg: detail"] * 3
    assert all(r.levelno == logging.DEBUG for r in internal.records)


def test_long_message_is_bounded(internal: Capture) -> None:
    diagnostics.report("r.long", "x" * 10_000)
    assert len(internal.lines[0]) < 2100


def test_never_raises_even_if_a_handler_does(internal: Capture) -> None:
    class Boom(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            raise RuntimeError("handler broken")

        def handleError(self, record: logging.LogRecord) -> None:
            raise RuntimeError("still broken")

    logger = logging.getLogger("sec_audit.internal")
    boom = Boom()
    logger.addHandler(boom)
    try:
        assert diagnostics.report("r.boom", "x") is False
        diagnostics.debug("r.boom", "x")
    finally:
        logger.removeHandler(boom)


def test_a_handler_that_reports_again_does_not_recurse(internal: Capture) -> None:
    class Echo(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            diagnostics.report("r.echo2", "from inside a handler")

    logger = logging.getLogger("sec_audit.internal")
    echo = Echo()
    logger.addHandler(echo)
    try:
        diagnostics.report("r.echo", "outer")
    finally:
        logger.removeHandler(echo)
    assert internal.lines == ["r.echo: outer"]


def test_thread_safe_one_line_per_window(internal: Capture) -> None:
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        for _ in range(200):
            diagnostics.report("r.race", "x")

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert internal.lines == ["r.race: x"]
    advance(internal, 60)
    diagnostics.report("r.race", "y")
    assert internal.lines[-1] == "r.race: y [1599 similar suppressed in the last 60s]"
