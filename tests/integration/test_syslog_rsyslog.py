"""Rfc5424SyslogHandler against a real rsyslogd (UDP, TCP with octet counting, TLS).

rsyslog parses each message as RFC 5424 and writes its fields; the sealed JSON lines
it received must verify as an intact chain, so the payload arrived byte for byte.
"""

from __future__ import annotations

import json
import logging
import os
import ssl
import uuid
from pathlib import Path
from typing import Any

import pytest

from sec_audit.core.events import AuditEvent
from sec_audit.logging.emission import emit_event
from sec_audit.logging.formatters import JSONLLogFormatter
from sec_audit.logging.handlers import QueuedJSONLHandler, Rfc5424SyslogHandler
from sec_audit.logging.integrity import IntegrityChain
from sec_audit.verify import verify_lines

from ._rsyslog import Received, RsyslogServer

KEY = b"integration-test-key-0123456789"
LOCAL3 = 19


class SealingFormatter(JSONLLogFormatter):
    """The real formatter with integrity sealing through its `finish` seam."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.chain = IntegrityChain(KEY)
        self.reserved_bytes = self.chain.member_bytes(self.compact)

    def finish(self, line: str) -> str:
        return self.chain.seal(line)


def handler_for(rsyslog: RsyslogServer, transport: str, **kwargs: Any) -> Rfc5424SyslogHandler:
    if transport == "tls":
        if rsyslog.tls_port is None:
            pytest.skip("openssl CLI not found: cannot make the test server's certificate")
        return Rfc5424SyslogHandler(
            port=rsyslog.tls_port,
            transport="tls",
            ssl_context=rsyslog.client_context(),
            **kwargs,
        )
    port = rsyslog.udp_port if transport == "udp" else rsyslog.tcp_port
    return Rfc5424SyslogHandler(port=port, transport=transport, **kwargs)  # type: ignore[arg-type]


def event(marker: str, i: int, event_type: str = "auth.login.failed", **extra: Any) -> AuditEvent:
    attrs = {"request_id": marker, "n": i, "user.name": "zoë", "note": 'quotes " and \\'}
    attrs.update(extra)
    return AuditEvent(event_type, "1.0", "auth.login.failed", attrs)


def check_header(row: Received, transport: str, msgid: str, severity: int) -> None:
    assert row.input == transport
    assert row.pri == LOCAL3 * 8 + severity
    assert row.version == "1"
    assert (row.hostname, row.app_name, row.procid) == ("web-1", "shop", str(os.getpid()))
    assert row.msgid == msgid
    assert row.structured_data == "-"
    assert row.timestamp.endswith("Z") and "T" in row.timestamp


@pytest.mark.parametrize("transport", ["udp", "tcp", "tls"])
def test_audit_lines_arrive_intact(
    rsyslog: RsyslogServer, logger: logging.Logger, transport: str
) -> None:
    handler = handler_for(rsyslog, transport, facility="local3", app_name="shop", hostname="web-1")
    handler.setFormatter(SealingFormatter())
    logger.addHandler(handler)
    marker = uuid.uuid4().hex
    levels = [logging.WARNING, logging.INFO, logging.ERROR]
    types = ["auth.login.failed", "auth.login.success", "http.response.server_error"]
    for i, (level, event_type) in enumerate(zip(levels, types, strict=True)):
        assert emit_event(logger, event(marker, i, event_type), level)
    handler.close()

    rows = rsyslog.wait_for(marker, 3)
    assert len(rows) == 3
    if transport == "udp":  # datagrams may be reordered in principle; not on loopback
        rows.sort(key=lambda row: json.loads(row.msg)["attributes"]["n"])
    for row, level, event_type in zip(rows, levels, types, strict=True):
        check_header(row, transport, event_type, {30: 4, 20: 6, 40: 3}[level])
        obj = json.loads(row.msg)
        assert obj["event_name"] == event_type
        assert obj["attributes"]["user.name"] == "zoë"
    # Byte for byte: the HMAC chain of the received payloads verifies.
    report = verify_lines([row.msg for row in rows], {"k1": KEY})
    assert report.ok, [str(p) for p in report.problems]
    assert handler.dropped == 0


@pytest.mark.parametrize("transport", ["tcp", "tls"])
def test_a_large_line_is_framed_by_octet_counting(
    rsyslog: RsyslogServer, logger: logging.Logger, transport: str
) -> None:
    handler = handler_for(rsyslog, transport, facility="local3", app_name="shop", hostname="web-1")
    handler.setFormatter(SealingFormatter())
    logger.addHandler(handler)
    marker = uuid.uuid4().hex
    big = "x" * 4000  # bounded per string by the engine; many of them make a big line
    extra = {f"field{i}": big for i in range(50)}
    emit_event(logger, event(marker, 0, **extra), logging.WARNING)
    emit_event(logger, event(marker, 1), logging.WARNING)
    handler.close()
    rows = rsyslog.wait_for(marker, 2)
    assert len(rows) == 2
    assert len(rows[0].msg) > 200_000
    assert json.loads(rows[0].msg)["attributes"]["field49"] == big
    assert verify_lines([row.msg for row in rows], {"k1": KEY}).ok


def test_behind_the_queue_handler(rsyslog: RsyslogServer, logger: logging.Logger) -> None:
    syslog = handler_for(rsyslog, "tcp", facility="local3", app_name="shop", hostname="web-1")
    queued = QueuedJSONLHandler(syslog, maxsize=16)
    queued.setFormatter(SealingFormatter(compact=True))
    logger.addHandler(queued)
    marker = uuid.uuid4().hex
    for i in range(100):
        emit_event(logger, event(marker, i), logging.WARNING)
    queued.close()
    syslog.close()
    rows = rsyslog.wait_for(marker, 100)
    assert [json.loads(row.msg)["attributes"]["n"] for row in rows] == list(range(100))
    assert {row.msgid for row in rows} == {"auth.login.failed"}
    assert verify_lines([row.msg for row in rows], {"k1": KEY}).ok


@pytest.mark.parametrize("transport", ["tcp", "tls"])
def test_rsyslog_restart(
    tmp_path: Path, certificate: tuple[Path, Path] | None, logger: logging.Logger, transport: str
) -> None:
    server = RsyslogServer(tmp_path / "restart", certificate)
    server.start()
    try:
        handler = handler_for(server, transport, facility="local3", hostname="web-1")
        now = [0.0]
        handler.clock = lambda: now[0]
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.warning("before-restart")
        assert len(server.wait_for("before-restart", 1)) == 1

        server.stop()
        logger.warning("while-down")  # refused: dropped and reported, never raised
        assert handler.dropped == 1

        server.start()
        now[0] += 60.0  # past any reconnect back-off
        logger.warning("after-restart")
        handler.close()
        assert len(server.wait_for("after-restart", 1)) == 1
        assert server.wait_for("while-down", 0) == []
    finally:
        server.stop()


def test_tls_refuses_an_untrusted_server(rsyslog: RsyslogServer, logger: logging.Logger) -> None:
    if rsyslog.tls_port is None:
        pytest.skip("openssl CLI not found: cannot make the test server's certificate")
    handler = Rfc5424SyslogHandler(
        port=rsyslog.tls_port, transport="tls", ssl_context=ssl.create_default_context()
    )
    logger.addHandler(handler)
    logger.warning("must-not-arrive")
    assert handler.dropped == 1
    handler.close()
