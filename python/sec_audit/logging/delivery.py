"""Whole lines across processes for the stdlib stream and file handlers.

Forked workers (gunicorn, uWSGI) inherit one stdout pipe or append to one file; the
stdlib handlers write each line through a buffered text stream, so two workers' lines
larger than PIPE_BUF interleave, and each worker rotates a shared file on its own.

`write_line(handler, line)` is the one write path: it encodes the formatted line plus
the handler's terminator and writes it with one `os.write` loop on the stream's file
descriptor while holding an exclusive `fcntl.flock` on a lock file of this process's
own (a separate open file description, opened anew after a fork: a lock on an
inherited descriptor would be shared with the parent and serialise nothing). The lock
file is keyed by the target:

- a file handler (`FileHandler`, `WatchedFileHandler`, the rotating handlers): the
  absolute path of its file, so every process that names the file shares the lock
  across rotations;
- any other stream (a pipe, a tty, a file given as `stream`): the device and inode of
  the descriptor, so every process writing to the same pipe shares it.

On a pipe or FIFO a line of at most PIPE_BUF bytes takes the lock shared (the kernel
writes it whole; it only has to keep out of a longer line's way), anything else
exclusive.

Lock files live in `SEC_AUDIT_LOCK_DIR` (default `<tempdir>/sec-audit-locks-<uid>`).
Under the lock a watched or rotating handler first reopens its path if another
process rotated or removed the file, then decides rollover on the real size of the
file at its path, so one process rotates and the others follow.

`install()` gives the recognised handlers of the audit loggers this path (AppConfig
ready()); `SafeStreamHandler` and friends are the same path as named classes.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import select
import stat
import sys
import tempfile
import threading
import time
import types
from logging import FileHandler, Handler, LogRecord, StreamHandler
from logging.handlers import (
    BaseRotatingHandler,
    RotatingFileHandler,
    TimedRotatingFileHandler,
    WatchedFileHandler,
)
from typing import Any

__all__ = [
    "LOCK_DIR_ENV_VAR",
    "SafeFileHandler",
    "SafeRotatingFileHandler",
    "SafeStreamHandler",
    "SafeTimedRotatingFileHandler",
    "SafeWatchedFileHandler",
    "install",
    "is_safe",
    "lock_dir",
    "recognised",
    "safe_emit",
    "unsafe_handlers",
    "write_line",
]

LOCK_DIR_ENV_VAR = "SEC_AUDIT_LOCK_DIR"
_SAFE_ATTR = "_sec_audit_safe"

# The stdlib emit of each class we know how to replace: a subclass that overrides
# emit does something we cannot see and is left alone (check W010 reports it).
_KNOWN_EMITS = {
    StreamHandler.emit,
    FileHandler.emit,
    WatchedFileHandler.emit,
    BaseRotatingHandler.emit,
}

_state_lock = threading.Lock()
_pid = os.getpid()
# key -> (lock file descriptor, in-process lock); flock does not serialise threads
# of one process (they share the descriptor), the threading lock does.
_locks: dict[str, tuple[int, threading.Lock]] = {}


def _after_fork() -> None:
    global _state_lock, _pid
    _state_lock = threading.Lock()
    _pid = os.getpid()
    for fd, _ in _locks.values():
        try:
            os.close(fd)
        except OSError:
            pass
    _locks.clear()


os.register_at_fork(after_in_child=_after_fork)


def lock_dir() -> str:
    """The directory of the lock files, created private to this user."""
    path = os.environ.get(LOCK_DIR_ENV_VAR) or os.path.join(
        tempfile.gettempdir(), f"sec-audit-locks-{os.getuid()}"
    )
    os.makedirs(path, mode=0o700, exist_ok=True)
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise PermissionError(f"lock directory {path!r} is not a directory owned by this user")
    return path


def _lock_target(handler: StreamHandler[Any], stream: Any, fd: int) -> tuple[str, bool]:
    """The lock file key of the target, and whether the target is a pipe or FIFO.

    Decided once per handler and stream (and again in a forked child, or when the
    handler's stream or its descriptor changed), not per line.
    """
    cached: tuple[Any, int, int, str, bool] | None = getattr(handler, "_sec_audit_target", None)
    if cached is not None and cached[0] is stream and cached[1] == fd and cached[2] == _pid:
        return cached[3], cached[4]
    if isinstance(handler, FileHandler):
        # baseFilename is already absolute, and the path (not the descriptor) is the
        # target: rotation is coordinated on it, so a file handler is never a pipe here.
        digest = hashlib.sha256(handler.baseFilename.encode()).hexdigest()
        key, pipe = f"path-{digest[:32]}.lock", False
    else:
        info = os.fstat(fd)
        key, pipe = f"fd-{info.st_dev}-{info.st_ino}.lock", stat.S_ISFIFO(info.st_mode)
    handler._sec_audit_target = (stream, fd, _pid, key, pipe)  # type: ignore[attr-defined]
    return key, pipe


def _lock_for(key: str) -> tuple[int, threading.Lock]:
    if os.getpid() != _pid:  # a fork the hook did not see (os.fork is always seen)
        _after_fork()
    entry = _locks.get(key)  # a dict read is atomic: the lock is for making one
    if entry is not None:
        return entry
    with _state_lock:
        entry = _locks.get(key)
        if entry is None:
            fd = os.open(
                os.path.join(lock_dir(), key), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600
            )
            entry = (fd, threading.Lock())
            _locks[key] = entry
        return entry


def _report_unlocked(exc: OSError) -> None:
    # No lock file (an unwritable lock directory): the line is still written, as the
    # stdlib would, and the operator is told that lines may interleave.
    from . import diagnostics

    diagnostics.report(
        "audit.delivery_unlocked",
        f"cannot open the delivery lock in {LOCK_DIR_ENV_VAR} or the temp directory; "
        "audit lines from several processes may interleave",
        exc=exc,
    )


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except BlockingIOError:
            select.select([], [fd], [])  # a non-blocking pipe that is full
            continue
        view = view[written:]


def _open_stream(handler: FileHandler) -> Any:
    handler.stream = handler._open()
    return handler.stream


def _reopen_if_moved(handler: FileHandler) -> None:
    """Reopen the handler's path when the file it has open is no longer there."""
    stream = handler.stream
    try:
        at_path = os.stat(handler.baseFilename)
    except FileNotFoundError:
        at_path = None
    if stream is not None and at_path is not None:
        mine = os.fstat(stream.fileno())
        if (mine.st_dev, mine.st_ino) == (at_path.st_dev, at_path.st_ino):
            return
    if stream is not None:
        handler.stream = None
        stream.close()
    _open_stream(handler)
    if isinstance(handler, TimedRotatingFileHandler):
        # Another process rotated this period: follow it instead of rotating again
        # (a second rollover would replace the file it just made).
        handler.rolloverAt = handler.computeRollover(int(time.time()))


def _rollover_if_due(handler: RotatingFileHandler | TimedRotatingFileHandler, size: int) -> None:
    if isinstance(handler, RotatingFileHandler):
        if handler.maxBytes <= 0:
            return
        # The real size of the file at the path (just reopened if another process
        # rotated), not this process's idea of it: one process rotates, once.
        opened: Any = handler.stream
        current = os.fstat(opened.fileno()).st_size
        due = current > 0 and current + size > handler.maxBytes
    else:
        due = int(time.time()) >= handler.rolloverAt
    if due:
        handler.doRollover()
        if handler.stream is None:  # delay=True leaves it closed
            _open_stream(handler)


def write_line(handler: StreamHandler[Any], line: str) -> None:
    """Write one formatted line (the terminator is added) whole, under the target's lock.

    Raises on failure; `safe_emit` hands that to `handler.handleError`.
    """
    stream = handler.stream
    if stream is None and isinstance(handler, FileHandler):
        stream = _open_stream(handler)
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        # No descriptor (io.StringIO, a test's capture): nothing outside this process
        # can share it, and the handler's lock already serialises its threads.
        stream.write(line + handler.terminator)
        stream.flush()
        return
    data = (line + handler.terminator).encode(
        getattr(stream, "encoding", None) or "utf-8",
        getattr(stream, "errors", None) or "strict",
    )
    key, pipe = _lock_target(handler, stream, fd)
    # POSIX writes a line of at most PIPE_BUF bytes to a pipe in one piece, never
    # interleaved with another process's write, so such lines only need to keep out of
    # the way of a longer line (which the kernel may split around theirs): a shared
    # lock. Longer lines, files and ttys take the exclusive lock. (Taken here rather
    # than by a context manager: this runs for every line.)
    try:
        lock_fd, thread_lock = _lock_for(key)
    except OSError as exc:
        _report_unlocked(exc)
        _write_target(handler, stream, fd, data)
        return
    with thread_lock:
        shared = pipe and len(data) <= select.PIPE_BUF
        fcntl.flock(lock_fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        try:
            _write_target(handler, stream, fd, data)
        finally:
            fcntl.flock(lock_fd, fcntl.LOCK_UN)


def _write_target(handler: StreamHandler[Any], stream: Any, fd: int, data: bytes) -> None:
    """The write itself, under the target's lock: a watched or rotating handler first
    follows (or makes) a rotation, then the stream's buffer and `data` go out."""
    if isinstance(handler, (WatchedFileHandler, RotatingFileHandler, TimedRotatingFileHandler)):
        _reopen_if_moved(handler)
        if not isinstance(handler, WatchedFileHandler):
            _rollover_if_due(handler, len(data))
        stream = handler.stream
        fd = stream.fileno()
    # Anything left in the text buffer (a print) goes out first, under the lock.
    stream.flush()
    _write_all(fd, data)


def safe_emit(handler: StreamHandler[Any], record: LogRecord) -> None:
    """The emit given to recognised handlers: format, then `write_line`."""
    try:
        write_line(handler, handler.format(record))
    except RecursionError:
        raise
    except Exception:
        handler.handleError(record)


def recognised(handler: Handler) -> bool:
    """A stdlib stream or file handler whose emit we can replace without losing behaviour."""
    if isinstance(handler, BaseRotatingHandler) and not isinstance(
        handler, (RotatingFileHandler, TimedRotatingFileHandler)
    ):
        return False  # its own shouldRollover needs the record; we cannot coordinate it
    return isinstance(handler, StreamHandler) and type(handler).emit in _KNOWN_EMITS


def is_safe(handler: Handler) -> bool:
    return bool(getattr(handler, _SAFE_ATTR, False))


def make_safe(handler: Handler) -> bool:
    """Give a recognised handler the safe path (idempotent); False when not recognised."""
    if is_safe(handler):
        return True
    if not recognised(handler):
        return False
    handler.emit = types.MethodType(safe_emit, handler)  # type: ignore[method-assign]
    setattr(handler, _SAFE_ATTR, True)
    return True


def audit_handlers() -> list[Handler]:
    """Handlers with our formatter that audit records reach (`sec_audit.*` but internal)."""
    from .diagnostics import INTERNAL_LOGGER_NAME
    from .formatters import JSONLLogFormatter
    from .queued import QueuedJSONLHandler

    names = ["sec_audit.audit"] + [
        name
        for name in list(logging.Logger.manager.loggerDict)
        if name.startswith("sec_audit.")
        and not name.startswith(INTERNAL_LOGGER_NAME)
        and name != "sec_audit.audit"
    ]
    found: list[Handler] = []
    seen: set[int] = set()
    for name in names:
        node: logging.Logger | None = logging.getLogger(name)
        while node is not None:
            for handler in node.handlers:
                if id(handler) in seen or not isinstance(handler.formatter, JSONLLogFormatter):
                    continue
                seen.add(id(handler))
                if isinstance(handler, QueuedJSONLHandler):
                    found.append(handler.target)  # the target does the writing
                found.append(handler)
            node = node.parent if node.propagate else None  # type: ignore[assignment]
    return found


# Handlers that write each record in one piece by construction (one datagram, one
# socket send or one OTLP record per record, or a queue in front of a target we also
# inspect).
def _whole_by_construction(handler: Handler) -> bool:
    from logging.handlers import (
        DatagramHandler,
        HTTPHandler,
        QueueHandler,
        SocketHandler,
        SysLogHandler,
    )

    from .otlp import OtlpLogHandler
    from .queued import QueuedJSONLHandler
    from .rfc5424 import Rfc5424SyslogHandler

    return isinstance(
        handler,
        (
            QueuedJSONLHandler,
            Rfc5424SyslogHandler,
            OtlpLogHandler,
            SysLogHandler,
            SocketHandler,
            DatagramHandler,
            HTTPHandler,
            QueueHandler,
            logging.NullHandler,
        ),
    )


def unsafe_handlers() -> list[Handler]:
    """Audit handlers that are neither safe, nor recognised, nor whole by construction."""
    return [
        handler
        for handler in audit_handlers()
        if not (is_safe(handler) or recognised(handler) or _whole_by_construction(handler))
    ]


def install() -> list[Handler]:
    """Make the audit loggers' recognised handlers safe; return those left unsafe."""
    unsafe: list[Handler] = []
    for handler in audit_handlers():
        if make_safe(handler) or _whole_by_construction(handler):
            continue
        unsafe.append(handler)
    return unsafe


class _SafeMixin:
    def emit(self, record: LogRecord) -> None:
        safe_emit(self, record)  # type: ignore[arg-type]


class SafeStreamHandler(_SafeMixin, StreamHandler):  # type: ignore[type-arg]
    """`logging.StreamHandler` writing whole lines across processes; default stdout."""

    _sec_audit_safe = True

    def __init__(self, stream: Any = None) -> None:
        super().__init__(sys.stdout if stream is None else stream)


class SafeFileHandler(_SafeMixin, FileHandler):
    _sec_audit_safe = True


class SafeWatchedFileHandler(_SafeMixin, WatchedFileHandler):
    _sec_audit_safe = True


class SafeRotatingFileHandler(_SafeMixin, RotatingFileHandler):
    _sec_audit_safe = True


class SafeTimedRotatingFileHandler(_SafeMixin, TimedRotatingFileHandler):
    _sec_audit_safe = True
