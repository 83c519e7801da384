"""Per-line cost of the cross-process safe write (sec_audit.logging.delivery) vs the plain one.

Both handlers write an already formatted line (a plain `Formatter` on a prebuilt
record) to a file in a temp directory: the plain `logging.StreamHandler` path (buffered
text write + flush) against the same handler given `delivery.make_safe` (flock on the
lock file, one `os.write`). One process, no contention: this is the fixed cost.

Run: `pytest benches/test_delivery_bench.py --benchmark-only`, or
`python benches/test_delivery_bench.py` for interleaved best-of-batch ratios (what
docs/performance.md reports).
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

from sec_audit.logging import delivery

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


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
