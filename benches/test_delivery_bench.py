"""Per-line cost of the cross-process safe write (sec_audit.logging.delivery) vs the plain one.

Both handlers write an already formatted line (a plain `Formatter` on a prebuilt
record) to a file in a temp directory: the plain `logging.StreamHandler` path (buffered
text write + flush) against the same handler given `delivery.make_safe` (flock on the
lock file, one `os.write`). One process, no contention: this is the fixed cost.

The OTLP case is the caller's cost of `OtlpLogHandler` (format with the audit
formatter, parse the line, build the record, hand it to the batch queue) against the
same audit record written by the safe stdout-style path with the same formatter. Its
exporter posts to a loopback HTTP server in this process that answers 200, only on
flush between batches, so the timed loop is the caller's cost alone.

Run: `pytest benches/test_delivery_bench.py --benchmark-only`, or
`python benches/test_delivery_bench.py` for interleaved best-of-batch ratios (what
docs/performance.md and docs/delivery.md report).
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import pytest

from sec_audit.core.events import AuditEvent
from sec_audit.logging import delivery
from sec_audit.logging.formatters import JSONLLogFormatter
from sec_audit.logging.otlp import OtlpLogHandler

SIZES = {"1KB": 1_000, "25KB": 25_000}


def _handler(directory: str, safe: bool) -> logging.StreamHandler[Any]:
    stream = open(os.path.join(directory, f"out-{safe}.jsonl"), "a")
    handler = logging.StreamHandler(stream)
    if safe:
        assert delivery.make_safe(handler)
    return handler


def _record(size: int) -> logging.LogRecord:
    return logging.makeLogRecord({"msg": "x" * size})


@pytest.fixture
def directory() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as path:
        os.environ[delivery.LOCK_DIR_ENV_VAR] = os.path.join(path, "locks")
        yield path


@pytest.mark.parametrize("safe", [False, True], ids=["plain", "safe"])
@pytest.mark.parametrize("size", list(SIZES.values()), ids=list(SIZES))
def test_write(benchmark: Any, directory: str, size: int, safe: bool) -> None:
    handler = _handler(directory, safe)
    record = _record(size)
    benchmark(handler.handle, record)
    handler.close()


def _batch(handler: logging.Handler, record: logging.LogRecord, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        handler.handle(record)
    return (time.perf_counter() - start) / n


def main(batches: int = 15, lines: int = 2_000) -> None:
    with tempfile.TemporaryDirectory() as path:
        os.environ[delivery.LOCK_DIR_ENV_VAR] = os.path.join(path, "locks")
        for name, size in SIZES.items():
            plain, safe = _handler(path, False), _handler(path, True)
            record = _record(size)
            best_plain = best_safe = float("inf")
            for _ in range(batches):
                best_plain = min(best_plain, _batch(plain, record, lines))
                best_safe = min(best_safe, _batch(safe, record, lines))
            print(
                f"{name}: plain {best_plain * 1e6:.2f} us/line, safe {best_safe * 1e6:.2f} "
                f"us/line, ratio {best_safe / best_plain:.2f}x"
            )
            plain.close()
            safe.close()


class _Collector:
    """A loopback OTLP/HTTP endpoint that accepts every export (200, empty body)."""

    def __init__(self) -> None:
        import http.server
        import threading

        class Accept(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Accept)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}/v1/logs"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _audit_record() -> logging.LogRecord:
    attributes = {
        "request_id": "6d7b284543364189bdcf49bfa31e6489",
        "source.address": "203.0.113.10",
        "http.request.method": "GET",
        "http.response.status_code": 404,
        "url.path": "/items/7/",
        "user.id": "42",
        "outcome": "failure",
    }
    record = logging.makeLogRecord({"msg": "", "levelno": logging.WARNING})
    record.audit_event = AuditEvent(
        "http.response.client_error", "1.0", "http.response", attributes
    )
    return record


def _audit_handlers(directory: str, endpoint: str) -> tuple[logging.Handler, OtlpLogHandler]:
    formatter = JSONLLogFormatter(source="shop")
    stream = _handler(directory, True)
    stream.setFormatter(formatter)
    # Exports only on flush (between batches): the batch measures the caller alone.
    otlp = OtlpLogHandler(
        endpoint,
        max_queue_size=1 << 20,
        max_export_batch_size=1 << 19,
        schedule_delay_millis=3_600_000,
    )
    otlp.setFormatter(formatter)
    return stream, otlp


@pytest.mark.parametrize("path", ["safe-stream", "otlp"])
def test_audit_record(benchmark: Any, directory: str, path: str) -> None:
    collector = _Collector()
    stream, otlp = _audit_handlers(directory, collector.endpoint)
    handler = stream if path == "safe-stream" else otlp
    benchmark.pedantic(handler.handle, (_audit_record(),), rounds=2000, iterations=1)
    otlp.close()
    stream.close()
    collector.close()


def main_otlp(batches: int = 15, lines: int = 2_000) -> None:
    collector = _Collector()
    with tempfile.TemporaryDirectory() as path:
        os.environ[delivery.LOCK_DIR_ENV_VAR] = os.path.join(path, "locks")
        stream, otlp = _audit_handlers(path, collector.endpoint)
        record = _audit_record()
        best_stream = best_otlp = float("inf")
        for _ in range(batches):
            best_stream = min(best_stream, _batch(stream, record, lines))
            best_otlp = min(best_otlp, _batch(otlp, record, lines))
            otlp.flush()  # between batches: the queue never fills
        print(
            f"audit record: safe stream {best_stream * 1e6:.2f} us, otlp {best_otlp * 1e6:.2f} "
            f"us (caller), ratio {best_otlp / best_stream:.2f}x; "
            f"exported {otlp.exported}, dropped {otlp.dropped}"
        )
        otlp.close()
        stream.close()
    collector.close()


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
    main_otlp(*(int(a) for a in sys.argv[1:]))
