"""Forked writers on one pipe through the safe delivery path: wall µs per line.

`python benches/pipe_writers.py WRITERS LINES SIZE` forks WRITERS processes that each
write LINES lines of SIZE bytes (terminator included) through a `make_safe`
`StreamHandler` on one `os.pipe()`, drained by a thread of the parent; it prints the
wall time per line. `PYTHONPATH=<tree>/python` measures another tree.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import tempfile
import threading
import time

from sec_audit.logging import delivery


def _writer(fd: int, count: int, line: str) -> None:
    stream = os.fdopen(fd, "w", closefd=False)
    handler = logging.StreamHandler(stream)
    delivery.make_safe(handler)
    record = logging.makeLogRecord({"msg": line})
    for _ in range(count):
        handler.emit(record)


def _drain(fd: int) -> None:
    while os.read(fd, 1 << 20):
        pass


def main() -> None:
    writers, count, size = (int(arg) for arg in sys.argv[1:4])
    os.environ[delivery.LOCK_DIR_ENV_VAR] = tempfile.mkdtemp()
    read_fd, write_fd = os.pipe()
    reader = threading.Thread(target=_drain, args=(read_fd,))
    reader.start()
    fork = multiprocessing.get_context("fork")
    start = time.perf_counter()
    procs = [
        fork.Process(target=_writer, args=(write_fd, count, "x" * (size - 1)))
        for _ in range(writers)
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
    wall = time.perf_counter() - start
    os.close(write_fd)
    reader.join()
    os.close(read_fd)
    print(
        f"{writers} writers x {count} lines of {size} B: {wall * 1e6 / (writers * count):.2f} us wall per line"
    )


if __name__ == "__main__":
    main()
