"""`Rfc5424SyslogHandler`: each audit line as an RFC 5424 message over UDP, TCP or TLS.

TCP and TLS (RFC 5425) frame messages by octet counting (RFC 6587). A broken
connection is reopened for the next record; while the server stays unreachable,
records are dropped, counted and reported (docs/delivery.md, "Syslog"). Never raises
into the application.
"""

from __future__ import annotations

import os
import select
import socket
import ssl
import time
from collections.abc import Callable
from datetime import datetime, timezone
from logging import NOTSET, Handler, LogRecord
from typing import Any, Literal

from sec_audit.core.events import AuditEvent

from . import diagnostics

__all__ = [
    "FACILITIES",
    "MAX_UDP_BYTES",
    "Rfc5424SyslogHandler",
    "Transport",
    "header_field",
    "rfc3339",
    "severity",
]

FACILITIES: dict[str, int] = {
    "kern": 0,
    "user": 1,
    "mail": 2,
    "daemon": 3,
    "auth": 4,
    "syslog": 5,
    "lpr": 6,
    "news": 7,
    "uucp": 8,
    "cron": 9,
    "authpriv": 10,
    "ftp": 11,
    **{f"local{n}": 16 + n for n in range(8)},
}
Transport = Literal["udp", "tcp", "tls"]
_TRANSPORTS = ("udp", "tcp", "tls")
# Largest UDP payload over IPv4; a longer line cannot go as one datagram.
MAX_UDP_BYTES = 65507
# RFC 5424 field limits (printable US-ASCII, no spaces).
_HOSTNAME_MAX, _APP_NAME_MAX, _PROCID_MAX, _MSGID_MAX = 255, 48, 128, 32
_RETRY_FIRST, _RETRY_MAX = 1.0, 30.0


def severity(levelno: int) -> int:
    """Syslog severity of a logging level: crit, err, warning, info, debug."""
    if levelno >= 50:
        return 2
    if levelno >= 40:
        return 3
    if levelno >= 30:
        return 4
    if levelno >= 20:
        return 6
    return 7


def _readable(sock: socket.socket) -> bool:
    if hasattr(select, "poll"):  # select.select cannot take descriptors >= FD_SETSIZE
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    return bool(select.select([sock], [], [], 0)[0])


def header_field(value: object, limit: int) -> str:
    """A header field: printable US-ASCII without spaces, bounded; '-' when empty."""
    text = "".join(ch if "!" <= ch <= "~" else "_" for ch in str(value)[:limit])
    return text or "-"


def rfc3339(created: float) -> str:
    stamp = datetime.fromtimestamp(created, tz=timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


class Rfc5424SyslogHandler(Handler):
    """Writes `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG` to a syslog server.

    MSG is the formatted line (UTF-8, no BOM); MSGID is the audit event type. `udp`
    sends one datagram per line; `tcp` and `tls` (RFC 5425) frame each message with
    octet counting (RFC 6587: `LEN SP MSG`). A broken connection is reopened for the
    next record (one immediate retry, so a restarted server loses nothing); while the
    server stays unreachable, records are dropped with a rate-limited report on
    `sec_audit.internal` and reconnects back off from 1 s to 30 s. Put it behind a
    QueuedJSONLHandler so a slow network never blocks a request.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 514,
        transport: Transport = "udp",
        facility: str | int = "local0",
        app_name: str = "sec-audit",
        hostname: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        *,
        timeout: float = 5.0,
        level: int = NOTSET,
    ) -> None:
        if transport not in _TRANSPORTS:
            raise ValueError(f"transport must be 'udp', 'tcp' or 'tls' (got {transport!r})")
        if isinstance(facility, str):
            if facility not in FACILITIES:
                raise ValueError(f"unknown syslog facility {facility!r}")
            facility = FACILITIES[facility]
        if not isinstance(facility, int) or not 0 <= facility <= 23:
            raise ValueError(f"facility must be a name or an int 0-23 (got {facility!r})")
        if ssl_context is not None and transport != "tls":
            raise ValueError("ssl_context needs transport='tls'")
        super().__init__(level)
        self.host, self.port, self.transport = host, int(port), transport
        self.facility = facility
        self.app_name = header_field(app_name, _APP_NAME_MAX)
        self.hostname = header_field(
            hostname if hostname is not None else socket.gethostname(), _HOSTNAME_MAX
        )
        self.ssl_context = ssl_context
        self.timeout = timeout
        self.dropped = 0
        self.clock: Callable[[], float] = time.monotonic
        self._sock: Any = None
        self._pid = os.getpid()
        self._retry_at = 0.0
        self._retry_delay = _RETRY_FIRST

    # -- the message ----------------------------------------------------------------

    def message(self, record: LogRecord) -> bytes:
        """The RFC 5424 message for `record` (without transport framing)."""
        pri = self.facility * 8 + severity(record.levelno)
        event = getattr(record, "audit_event", None)
        msgid = header_field(event.event_type, _MSGID_MAX) if isinstance(event, AuditEvent) else "-"
        procid = header_field(os.getpid(), _PROCID_MAX)
        head = f"<{pri}>1 {rfc3339(record.created)} {self.hostname} {self.app_name} {procid} {msgid} - "
        return head.encode("ascii") + self.format(record).encode("utf-8", "surrogatepass")

    def frame(self, message: bytes) -> bytes:
        if self.transport == "udp":
            return message
        return b"%d %s" % (len(message), message)

    # -- emit -----------------------------------------------------------------------

    def emit(self, record: LogRecord) -> None:
        try:
            data = self.frame(self.message(record))
        except Exception:
            self.handleError(record)
            return
        if self.transport == "udp" and len(data) > MAX_UDP_BYTES:
            self._lost(f"a {len(data)}-byte message does not fit a UDP datagram; use tcp", None)
            return
        try:
            self._send(data)
        except Exception as exc:  # OSError, ssl.SSLError, a resolver failure...
            self._close_socket()
            self._lost(f"cannot deliver to {self._where()}", exc)

    def _send(self, data: bytes) -> None:
        if self._pid != os.getpid():  # forked: the connection is the parent's
            self._sock, self._pid = None, os.getpid()
        reused = self._sock is not None
        if reused and self._peer_closed():
            self._close_socket()
            reused = False
        if self._sock is None:
            self._connect()
        try:
            self._sock.sendall(data)
        except OSError:
            if not reused:
                raise
            # A connection that died since the last record: reopen once and resend.
            self._close_socket()
            self._connect()
            self._sock.sendall(data)

    def _connect(self) -> None:
        now = self.clock()
        if now < self._retry_at:
            raise ConnectionError(f"reconnect backs off for {self._retry_at - now:.1f}s")
        try:
            if self.transport == "udp":
                family, kind, proto, _, address = socket.getaddrinfo(
                    self.host, self.port, type=socket.SOCK_DGRAM
                )[0]
                sock = socket.socket(family, kind, proto)
                sock.connect(address)  # so ICMP errors surface on the next send
            else:
                sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
                if self.transport == "tls":
                    context = self.ssl_context or ssl.create_default_context()
                    sock = context.wrap_socket(sock, server_hostname=self.host)
            sock.settimeout(self.timeout)
        except Exception:
            self._retry_at = now + self._retry_delay
            self._retry_delay = min(self._retry_delay * 2, _RETRY_MAX)
            raise
        self._sock = sock
        self._retry_at, self._retry_delay = 0.0, _RETRY_FIRST

    def _peer_closed(self) -> bool:
        """A syslog server never sends: a readable stream socket means EOF or an error."""
        if self.transport == "udp":
            return False
        try:
            if not _readable(self._sock):
                return False
            self._sock.setblocking(False)
            try:
                return self._sock.recv(1) == b""
            finally:
                self._sock.settimeout(self.timeout)
        except (BlockingIOError, ssl.SSLWantReadError):
            return False  # e.g. a TLS 1.3 session ticket, not data
        except (OSError, ValueError):
            return True

    def _close_socket(self, *, graceful: bool = False) -> None:
        sock, self._sock = self._sock, None
        if sock is None:
            return
        try:
            if graceful and isinstance(sock, ssl.SSLSocket):
                sock = sock.unwrap()  # close_notify: the server sees a clean end, not an error
        except (OSError, ValueError):
            pass
        try:
            sock.close()
        except OSError:
            pass

    def _where(self) -> str:
        return f"syslog {self.transport}://{self.host}:{self.port}"

    def _lost(self, why: str, exc: BaseException | None) -> None:
        self.dropped += 1
        diagnostics.report(
            "audit.syslog_undelivered",
            f"{why}; {self.dropped} records dropped in total",
            exc=exc,
        )

    def close(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            self._close_socket(graceful=True)
        super().close()
