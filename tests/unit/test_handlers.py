"""QueuedJSONLHandler (block/drop, drain, caller-side formatting, fork, exit) and the
RFC 5424 syslog handler's wire format and failure handling against local sockets.
The real rsyslog is in tests/integration/test_syslog_rsyslog.py.
"""

from __future__ import annotations

import io
import json
import logging
import logging.config
import os
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sec_audit.core.events import AuditEvent
from sec_audit.logging import diagnostics
from sec_audit.logging.handlers import (
    MAX_UDP_BYTES,
    QueuedJSONLHandler,
    Rfc5424SyslogHandler,
    header_field,
    rfc3339,
)
from sec_audit.logging.integrity import IntegrityChain
from sec_audit.verify import verify_lines

from ._logging_helpers import Capture, internal_capture

WAIT = 10.0  # bound for waiting on a worker thread to reach a point (never asserted on)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def internal() -> Iterator[Capture]:
    with internal_capture() as capture:
        yield capture


class GatedTarget(logging.Handler):
    """Collects lines; holds the writer thread at `gate` until the test opens it."""

    def __init__(self, open_gate: bool = False) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.threads: set[str] = set()
        self.entered = threading.Event()
        self.gate = threading.Event()
        if open_gate:
            self.gate.set()

    def emit(self, record: logging.LogRecord) -> None:
        self.entered.set()
        assert self.gate.wait(WAIT)
        self.threads.add(threading.current_thread().name)
        self.lines.append(self.format(record))


class ThreadNoting(logging.Formatter):
    """Shows which thread formatted a record."""

    def format(self, record: logging.LogRecord) -> str:
        return f"{record.getMessage()} @{threading.current_thread().name}"


_count = 0


def logger_for(handler: logging.Handler) -> logging.Logger:
    global _count
    _count += 1
    logger = logging.getLogger(f"tests.handlers.{_count}")
    logger.handlers.clear()
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    return logger


# -- QueuedJSONLHandler --------------------------------------------------------------


def test_block_policy_is_lossless_and_ordered() -> None:
    target = GatedTarget()
    handler = QueuedJSONLHandler(target, maxsize=2)
    logger = logger_for(handler)
    producer = threading.Thread(target=lambda: [logger.info("m%d", i) for i in range(50)])
    producer.start()  # fills the queue and waits while the writer is held at the gate
    assert target.entered.wait(WAIT)
    target.gate.set()
    producer.join()
    handler.close()
    assert target.lines == [f"m{i}" for i in range(50)]
    assert handler.dropped == 0


def test_drop_policy_never_waits_and_counts_drops(internal: Capture) -> None:
    target = GatedTarget()
    handler = QueuedJSONLHandler(target, maxsize=2, policy="drop")
    logger = logger_for(handler)
    logger.info("first")
    assert target.entered.wait(WAIT)  # the writer holds "first"; the queue is empty
    for i in range(9):
        logger.info("m%d", i)  # two fit, seven find the queue full
    assert handler.dropped == 7
    target.gate.set()
    handler.flush()
    assert target.lines == ["first", "m0", "m1"]
    assert internal.reasons == ["audit.queue_dropped"]  # rate-limited: one line
    assert internal.lines[0] == (
        "audit.queue_dropped: QueuedJSONLHandler dropped a record: the queue is full "
        "(2 lines); 1 dropped in total"
    )
    handler.close()


def test_drops_leave_no_gap_in_an_integrity_chain() -> None:
    chain = IntegrityChain(b"k" * 32)

    class Sealing(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return chain.seal(json.dumps({"m": record.getMessage()}))

    target = GatedTarget()
    handler = QueuedJSONLHandler(target, maxsize=3, policy="drop")
    handler.setFormatter(Sealing())
    logger = logger_for(handler)
    logger.info("first")
    assert target.entered.wait(WAIT)
    for i in range(10):
        logger.info("m%d", i)
    target.gate.set()
    handler.close()
    assert handler.dropped == 7
    assert [json.loads(x)["m"] for x in target.lines] == ["first", "m0", "m1", "m2"]
    assert verify_lines(target.lines, {"k1": b"k" * 32}).ok


def test_formats_in_the_calling_thread_and_the_target_only_writes() -> None:
    target = GatedTarget(open_gate=True)
    target.setFormatter(ThreadNoting())  # replaced: the target writes the finished line
    handler = QueuedJSONLHandler(target)
    handler.setFormatter(ThreadNoting())
    logger = logger_for(handler)
    caller = threading.current_thread().name
    logger.info("hello %s", "there")
    handler.flush()
    assert target.lines == [f"hello there @{caller}"]
    assert target.threads == {"sec-audit-queue-writer"}
    handler.close()


def test_flush_writes_everything_queued_before_it() -> None:
    stream = io.StringIO()
    handler = QueuedJSONLHandler(stream=stream, maxsize=10)
    logger = logger_for(handler)
    for i in range(500):
        logger.info("line %d", i)
    handler.flush()
    assert stream.getvalue().splitlines() == [f"line {i}" for i in range(500)]
    handler.close()


def test_close_drains_stops_the_thread_and_later_records_still_arrive() -> None:
    target = GatedTarget(open_gate=True)
    handler = QueuedJSONLHandler(target)
    logger = logger_for(handler)
    for i in range(20):
        logger.info("m%d", i)
    handler.close()
    assert target.lines == [f"m{i}" for i in range(20)]
    assert handler._worker is not None and not handler._worker.is_alive()
    logger.info("late")  # e.g. from another atexit hook: written directly
    assert target.lines[-1] == "late"
    handler.close()  # idempotent


def test_a_failing_target_does_not_stop_the_writer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logging, "raiseExceptions", False)

    class Flaky(GatedTarget):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage() == "boom":
                raise OSError("disk full")
            super().emit(record)

    target = Flaky(open_gate=True)
    handler = QueuedJSONLHandler(target)
    logger = logger_for(handler)
    for message in ("a", "boom", "b"):
        logger.info(message)
    handler.close()
    assert target.lines == ["a", "b"]


def test_a_target_that_logs_back_into_the_queue_does_not_deadlock() -> None:
    """A syslog target reporting a failure on sec_audit.internal, routed to the same queue."""
    stream = io.StringIO()
    handler = QueuedJSONLHandler(stream=stream, maxsize=4)

    class Reporting(logging.StreamHandler):  # type: ignore[type-arg]
        def emit(self, record: logging.LogRecord) -> None:
            super().emit(record)
            if record.getMessage().startswith("event"):
                logging.getLogger("sec_audit.internal").warning("delivery trouble")

    handler.target = Reporting(stream)
    handler.target.setFormatter(logging.Formatter("%(message)s"))
    internal_logger = logging.getLogger("sec_audit.internal")
    logger = logger_for(handler)
    internal_logger.addHandler(handler)
    try:
        for i in range(50):
            logger.info("event %d", i)
        handler.flush()
        handler.close()
    finally:
        internal_logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert [x for x in lines if x.startswith("event")] == [f"event {i}" for i in range(50)]
    # Re-entrant records queue when there is room and are dropped, not waited for, when not.
    assert lines.count("delivery trouble") + handler.dropped >= 50


def test_records_below_the_target_level_are_not_written() -> None:
    target = GatedTarget(open_gate=True)
    target.setLevel(logging.WARNING)
    handler = QueuedJSONLHandler(target)
    logger = logger_for(handler)
    logger.info("quiet")
    logger.warning("loud")
    handler.close()
    assert target.lines == ["loud"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_gets_its_own_writer(tmp_path: Path) -> None:
    out = tmp_path / "out.log"
    with out.open("a", encoding="utf-8") as stream:
        handler = QueuedJSONLHandler(stream=stream)
        logger = logger_for(handler)
        logger.info("parent before fork")
        handler.flush()
        pid = os.fork()
        if pid == 0:
            try:
                logger.info("child")
                handler.flush()
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        logger.info("parent after fork")
        handler.close()
    assert out.read_text().splitlines() == ["parent before fork", "child", "parent after fork"]


def test_interpreter_exit_drains_the_queue(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import logging, sys, time
        from sec_audit.logging.handlers import QueuedJSONLHandler

        class Slow(logging.StreamHandler):
            def emit(self, record):
                time.sleep(0.0005)
                super().emit(record)

        handler = QueuedJSONLHandler(Slow(sys.stdout), maxsize=50)
        logger = logging.getLogger("exit-test")
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        for i in range(300):
            logger.info("line %d", i)
        # no flush, no close: logging's atexit shutdown must drain
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "python")},
        timeout=120,
        check=True,
    )
    assert result.stdout.splitlines() == [f"line {i}" for i in range(300)]
    assert result.stderr == ""


@pytest.mark.parametrize("module", ["sec_audit.logging.handlers", "sec_audit.logging._sinks"])
def test_dict_config(module: str, capsys: pytest.CaptureFixture[str]) -> None:
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "handlers": {
                "audit_queue": {
                    "class": f"{module}.QueuedJSONLHandler",
                    "stream": "ext://sys.stdout",
                    "maxsize": 100,
                    "policy": "drop",
                }
            },
            "loggers": {
                "tests.handlers.dictconfig": {
                    "handlers": ["audit_queue"],
                    "level": "INFO",
                    "propagate": False,
                }
            },
        }
    )
    logger = logging.getLogger("tests.handlers.dictconfig")
    (handler,) = logger.handlers
    assert isinstance(handler, QueuedJSONLHandler)
    assert (handler.maxsize, handler.policy) == (100, "drop")
    logger.info("via dictConfig")
    handler.close()
    logger.handlers.clear()
    assert capsys.readouterr().out == "via dictConfig\n"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"policy": "lossy"}, "policy must be 'block' or 'drop'"),
        ({"maxsize": 0}, "maxsize must be an int >= 1"),
        ({"maxsize": True}, "maxsize must be an int >= 1"),
        ({"target": logging.NullHandler(), "stream": io.StringIO()}, "target or stream"),
    ],
)
def test_queue_handler_arguments(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        QueuedJSONLHandler(**kwargs)


# -- Rfc5424SyslogHandler: the message ----------------------------------------------

CREATED = 1717243200.123456  # 2024-06-01T12:00:00.123456Z


def audit_record(level: int = logging.WARNING, event_type: str = "auth.login.failed") -> Any:
    record = logging.makeLogRecord(
        {"name": "sec_audit.audit", "levelno": level, "levelname": logging.getLevelName(level)}
    )
    record.msg = '{"event_name": "' + event_type + '", "x": "é"}'
    record.created = CREATED
    record.audit_event = AuditEvent(event_type, "1.0", "auth.login.failed", {})
    return record


def test_rfc5424_message_layout() -> None:
    handler = Rfc5424SyslogHandler(hostname="web-1", app_name="shop")
    message = handler.message(audit_record()).decode("utf-8")
    assert message == (
        f"<132>1 2024-06-01T12:00:00.123456Z web-1 shop {os.getpid()} auth.login.failed - "
        '{"event_name": "auth.login.failed", "x": "é"}'
    )
    assert not message.encode().count(b"\xef\xbb\xbf")  # no BOM


@pytest.mark.parametrize(
    ("level", "facility", "pri"),
    [
        (logging.CRITICAL, "local0", 130),
        (logging.ERROR, "local0", 131),
        (logging.WARNING, "auth", 36),
        (logging.INFO, "local7", 190),
        (logging.DEBUG, 1, 15),
        (25, "local0", 134),
    ],
)
def test_pri_is_facility_and_severity(level: int, facility: str | int, pri: int) -> None:
    handler = Rfc5424SyslogHandler(facility=facility)
    assert handler.message(audit_record(level)).startswith(f"<{pri}>1 ".encode())


def test_header_fields_are_sanitised_and_bounded() -> None:
    record = audit_record(event_type="x" * 40)
    record.audit_event = AuditEvent("evil type\nwith spaces " + "y" * 40, "1.0", "b", {})
    handler = Rfc5424SyslogHandler(hostname="bad host\n", app_name="a" * 60)
    fields = handler.message(record).decode().split(" ", 7)
    assert fields[2] == "bad_host_"
    assert fields[3] == "a" * 48
    assert fields[5] == ("evil_type_with_spaces_" + "y" * 40)[:32]
    assert header_field("", 10) == "-"
    plain = logging.makeLogRecord({"msg": "not an audit record", "levelno": logging.INFO})
    assert handler.message(plain).decode().split(" ")[5] == "-"


def test_timestamp_is_utc_rfc3339_with_microseconds() -> None:
    assert rfc3339(CREATED) == "2024-06-01T12:00:00.123456Z"
    assert rfc3339(0.0) == "1970-01-01T00:00:00.000000Z"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"transport": "http"}, "transport must be 'udp', 'tcp' or 'tls'"),
        ({"facility": "local9"}, "unknown syslog facility"),
        ({"facility": 24}, "facility must be a name or an int 0-23"),
        ({"ssl_context": object()}, "ssl_context needs transport='tls'"),
    ],
)
def test_syslog_arguments(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Rfc5424SyslogHandler(**kwargs)


# -- Rfc5424SyslogHandler: delivery against local sockets -----------------------------


class TcpSink:
    """A loopback TCP server collecting octet-counted frames from every connection."""

    def __init__(self, port: int = 0) -> None:
        self.server = socket.create_server(("127.0.0.1", port))
        self.port = self.server.getsockname()[1]
        self.data: list[bytes] = []
        self.connections: list[socket.socket] = []
        self.received = threading.Condition()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.connections.append(conn)
            self.data.append(b"")
            threading.Thread(
                target=self._read, args=(conn, len(self.data) - 1), daemon=True
            ).start()

    def _read(self, conn: socket.socket, index: int) -> None:
        try:
            while chunk := conn.recv(65536):
                with self.received:
                    self.data[index] += chunk
                    self.received.notify_all()
        except OSError:  # the test closed the connection
            pass

    def frames(self, count: int) -> list[bytes]:
        """Wait (bounded) until `count` frames arrived; the messages, framing checked."""
        with self.received:
            self.received.wait_for(lambda: len(parse_frames(b"".join(self.data))) >= count, WAIT)
        return parse_frames(b"".join(self.data))

    def close(self) -> None:
        self.server.close()
        for conn in self.connections:
            conn.close()


def parse_frames(stream: bytes) -> list[bytes]:
    messages = []
    while stream:
        length, space, rest = stream.partition(b" ")
        assert space and length.isdigit(), stream[:40]
        if len(rest) < int(length):
            break
        messages.append(rest[: int(length)])
        stream = rest[int(length) :]
    return messages


@pytest.fixture
def tcp_sink() -> Iterator[TcpSink]:
    sink = TcpSink()
    yield sink
    sink.close()


def test_tcp_uses_octet_counting(tcp_sink: TcpSink) -> None:
    handler = Rfc5424SyslogHandler(port=tcp_sink.port, transport="tcp", hostname="h")
    for event_type in ("auth.login.failed", "auth.login.success"):
        handler.handle(audit_record(event_type=event_type))
    handler.close()
    messages = tcp_sink.frames(2)
    assert [m.split(b" ")[5] for m in messages] == [b"auth.login.failed", b"auth.login.success"]
    assert messages[0].endswith('"x": "é"}'.encode())


def test_udp_sends_one_datagram_per_record() -> None:
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(WAIT)
    handler = Rfc5424SyslogHandler(port=receiver.getsockname()[1], hostname="h")
    try:
        handler.handle(audit_record())
        datagram = receiver.recv(65535)
    finally:
        handler.close()
        receiver.close()
    assert datagram == handler.message(audit_record())


def test_udp_line_too_large_is_dropped_and_reported(internal: Capture) -> None:
    handler = Rfc5424SyslogHandler(port=9, hostname="h")
    record = audit_record()
    record.msg = "x" * MAX_UDP_BYTES
    handler.handle(record)
    assert handler.dropped == 1
    assert internal.reasons == ["audit.syslog_undelivered"]
    assert "does not fit a UDP datagram; use tcp" in internal.lines[0]


def test_a_restarted_server_loses_nothing(tcp_sink: TcpSink) -> None:
    handler = Rfc5424SyslogHandler(port=tcp_sink.port, transport="tcp", hostname="h")
    handler.handle(audit_record(event_type="one"))
    assert len(tcp_sink.frames(1)) == 1
    for conn in tcp_sink.connections:  # the server drops the connection
        conn.shutdown(socket.SHUT_RDWR)
        conn.close()
    handler.handle(audit_record(event_type="two"))
    handler.close()
    assert [m.split(b" ")[5] for m in tcp_sink.frames(2)] == [b"one", b"two"]
    assert handler.dropped == 0


def test_unreachable_server_never_raises_and_backs_off(internal: Capture) -> None:
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens here now
    handler = Rfc5424SyslogHandler(port=port, transport="tcp", hostname="h")
    now = [1000.0]
    handler.clock = lambda: now[0]
    handler.handle(audit_record(event_type="lost-1"))  # refused: dropped, reported
    sink = TcpSink(port)
    try:
        handler.handle(audit_record(event_type="lost-2"))  # within the back-off: no attempt
        assert handler.dropped == 2
        assert sink.data == []
        now[0] += 1.0  # the first back-off has passed
        handler.handle(audit_record(event_type="kept"))
        handler.close()
        assert [m.split(b" ")[5] for m in sink.frames(1)] == [b"kept"]
    finally:
        sink.close()
    assert internal.reasons == ["audit.syslog_undelivered"]  # rate-limited
    assert internal.lines[0].startswith(
        f"audit.syslog_undelivered: cannot deliver to syslog tcp://127.0.0.1:{port}; "
        "1 records dropped in total (builtins.ConnectionRefusedError)"
    )


def test_behind_the_queue_the_msgid_survives(tcp_sink: TcpSink) -> None:
    syslog = Rfc5424SyslogHandler(port=tcp_sink.port, transport="tcp", hostname="h")
    handler = QueuedJSONLHandler(syslog)
    handler.handle(audit_record(event_type="auth.login.failed"))
    handler.close()
    syslog.close()
    (message,) = tcp_sink.frames(1)
    assert message.split(b" ", 7)[5] == b"auth.login.failed"
    assert message.endswith('"x": "é"}'.encode())


@pytest.fixture(autouse=True)
def _reset_diagnostics() -> Iterator[None]:
    diagnostics.reset()
    yield
    diagnostics.reset()
