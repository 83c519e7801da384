"""Delivery handlers, one module each; this module keeps their public import path.

- `QueuedJSONLHandler` (`queued.py`): a non-blocking bounded queue in front of any
  handler.
- `Rfc5424SyslogHandler` (`rfc5424.py`): RFC 5424 syslog over UDP, TCP or TLS.
- `OtlpLogHandler` (`otlp.py`): OTLP/HTTP export, with the `[otlp]` extra.

Stdout JSONL read by a collector stays the recommended path (docs/delivery.md); these
are for when the process itself must ship lines without blocking requests on I/O.
None of them ever raises into the application.
"""

from __future__ import annotations

from .otlp import OtlpLogHandler
from .queued import QueuedJSONLHandler, QueuePolicy
from .rfc5424 import (
    FACILITIES,
    MAX_UDP_BYTES,
    Rfc5424SyslogHandler,
    Transport,
    header_field,
    rfc3339,
    severity,
)

__all__ = [
    "FACILITIES",
    "MAX_UDP_BYTES",
    "OtlpLogHandler",
    "QueuePolicy",
    "QueuedJSONLHandler",
    "Rfc5424SyslogHandler",
    "Transport",
    "header_field",
    "rfc3339",
    "severity",
]
