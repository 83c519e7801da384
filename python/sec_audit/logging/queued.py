"""`QueuedJSONLHandler`: a bounded queue and one writer thread in front of any handler.

The record is formatted in the caller (where its context is current) and only the
finished line crosses the queue, so a request never waits for the disk or the
network. Never raises into the application (docs/delivery.md, "Queue").
"""

from __future__ import annotations

import copy
import os
import queue
import sys
import threading
import weakref
from logging import NOTSET, Formatter, Handler, LogRecord, StreamHandler
from typing import Literal, TextIO

from . import diagnostics

__all__ = ["QueuePolicy", "QueuedJSONLHandler"]

QueuePolicy = Literal["block", "drop"]
_POLICIES = ("block", "drop")
# How often a producer blocked on a full queue checks that the writer thread lives.
_LIVENESS_SECONDS = 0.5


class _LineFormatter(Formatter):
    """The target's formatter: the record already carries the finished line."""

    def format(self, record: LogRecord) -> str:
        return str(record.msg)


class _FlushMarker:
    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done = threading.Event()


_STOP = object()


class QueuedJSONLHandler(Handler):
    """Format in the calling thread, write from a background thread.

    The record is formatted (scrubbed, bounded, sealed) in the caller, where it and
    its context are current, and under one lock with the enqueue, so queue order is
    format order (what an integrity chain needs). Only the finished line crosses the
    bounded queue; a daemon thread hands it to `target` (default: a StreamHandler on
    `stream`, else stdout), whose own formatter is replaced: it only writes.

    `policy='block'` (default) is lossless: a producer waits while the queue is full.
    `policy='drop'` never waits: a record that finds the queue full is not formatted
    (so an integrity chain has no gap) and is counted in `dropped`, reported
    (rate-limited) on `sec_audit.internal`. `flush()` waits until every line queued
    before it is written; `close()` drains and stops; logging's atexit shutdown calls
    both. After a fork the child starts its own writer thread on first use.
    """

    def __init__(
        self,
        target: Handler | None = None,
        *,
        stream: TextIO | None = None,
        maxsize: int = 10000,
        policy: QueuePolicy = "block",
        level: int = NOTSET,
    ) -> None:
        if target is not None and stream is not None:
            raise ValueError("give target or stream, not both")
        if not isinstance(maxsize, int) or isinstance(maxsize, bool) or maxsize < 1:
            raise ValueError(f"maxsize must be an int >= 1 (got {maxsize!r})")
        if policy not in _POLICIES:
            raise ValueError(f"policy must be 'block' or 'drop' (got {policy!r})")
        super().__init__(level)
        self._owns_target = target is None
        self.target: Handler = (
            target if target is not None else StreamHandler(stream if stream else sys.stdout)
        )
        self.target.setFormatter(_LineFormatter())
        self.maxsize = maxsize
        self.policy: QueuePolicy = policy
        self.dropped = 0
        # Serialises format + enqueue (not the handler lock: logging's shutdown holds
        # that one while it flushes, and the writer thread may log back into us).
        self._order = threading.Lock()
        self._queue: queue.Queue[object] = queue.Queue(maxsize)
        self._worker: threading.Thread | None = None
        self._pid = os.getpid()
        self._closed = False
        _queued_handlers.add(self)

    # -- the producer side ----------------------------------------------------------

    def handle(self, record: LogRecord) -> LogRecord | bool:  # type: ignore[override]
        # Handler.handle would take self.lock around emit; ordering uses self._order.
        result = self.filter(record)
        if isinstance(result, LogRecord):
            record = result
        if result:
            self.emit(record)
        return result

    def emit(self, record: LogRecord) -> None:
        on_worker = self._on_worker()
        order = self._order  # _enqueue may replace it (a fork Python did not see)
        # The writer thread (e.g. a target reporting a delivery failure) must never wait
        # on a producer that is itself waiting for the writer.
        if not order.acquire(blocking=not on_worker):
            self._drop("the queue is busy with the writer thread's own record")
            return
        try:
            self._enqueue(record, may_block=not on_worker)
        except Exception:
            self.handleError(record)
        finally:
            order.release()

    def _enqueue(self, record: LogRecord, *, may_block: bool) -> None:
        if self._closed:  # late records (after shutdown): write them directly
            self._deliver(self._prepare(record))
            return
        self._ensure_worker()
        if (self.policy == "drop" or not may_block) and self._queue.full():
            self._drop(f"the queue is full ({self.maxsize} lines)")
            return
        item = self._prepare(record)
        if not may_block or self.policy == "drop":
            self._queue.put_nowait(item)  # room checked above; we are the only producer
            return
        while True:
            try:
                self._queue.put(item, timeout=_LIVENESS_SECONDS)
                return
            except queue.Full:
                if not self._worker_alive():  # never wait on a thread that is gone
                    self._deliver(item)
                    return

    def _prepare(self, record: LogRecord) -> LogRecord:
        # A copy that carries the line as its message (as QueueHandler.prepare); the
        # audit event stays on it for targets that read it (syslog's MSGID).
        prepared = copy.copy(record)
        prepared.msg = self.format(record)
        prepared.args = None
        prepared.exc_info = prepared.exc_text = prepared.stack_info = None
        return prepared

    def _drop(self, why: str) -> None:
        self.dropped += 1
        diagnostics.report(
            "audit.queue_dropped",
            f"QueuedJSONLHandler dropped a record: {why}; {self.dropped} dropped in total",
        )

    # -- the writer thread ----------------------------------------------------------

    def _on_worker(self) -> bool:
        return self._worker is not None and threading.current_thread() is self._worker

    def _worker_alive(self) -> bool:
        return self._worker is not None and self._worker.is_alive() and self._pid == os.getpid()

    def _ensure_worker(self) -> None:
        if self._pid != os.getpid():  # forked: the parent's thread and lines are not ours
            self._after_fork()
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(
                target=self._run, name="sec-audit-queue-writer", daemon=True
            )
            self._worker.start()

    def _after_fork(self) -> None:
        self._order = threading.Lock()
        self._queue = queue.Queue(self.maxsize)
        self._worker = None
        self._pid = os.getpid()

    def _run(self) -> None:
        q = self._queue
        while True:
            item = q.get()
            if item is _STOP:
                return
            if isinstance(item, _FlushMarker):
                item.done.set()
            elif isinstance(item, LogRecord):
                self._deliver(item)

    def _deliver(self, record: LogRecord) -> None:
        try:
            if record.levelno >= self.target.level:
                self.target.handle(record)
        except Exception:  # the target's own handleError normally catches first
            self.handleError(record)

    # -- flush and close ------------------------------------------------------------

    def flush(self) -> None:
        """Wait until every line queued before this call is written, then flush the target."""
        if self._worker_alive() and not self._on_worker():
            marker = _FlushMarker()
            with self._order:
                self._queue.put(marker)
            while not marker.done.wait(_LIVENESS_SECONDS):
                if not self._worker_alive():
                    break
        self.target.flush()

    def close(self) -> None:
        with self._order:
            if not self._closed:
                self._closed = True
                if self._worker_alive() and not self._on_worker():
                    self._queue.put(_STOP)  # after every queued line
                    self._worker.join()  # type: ignore[union-attr]
                if self._owns_target:
                    self.target.close()
                else:
                    self.target.flush()
        super().close()


_queued_handlers: weakref.WeakSet[QueuedJSONLHandler] = weakref.WeakSet()


def _reset_queues_after_fork() -> None:
    for handler in list(_queued_handlers):
        handler._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_queues_after_fork)
