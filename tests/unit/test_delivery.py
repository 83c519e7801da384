"""The cross-process write path (sec_audit.logging.delivery) with forked writers."""

from __future__ import annotations

import fcntl
import logging
import logging.handlers
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sec_audit.logging import delivery
from sec_audit.logging.formatters import JSONLLogFormatter

_FORK = multiprocessing.get_context("fork")


@pytest.fixture(autouse=True)
def _private_lock_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(delivery.LOCK_DIR_ENV_VAR, str(tmp_path / "locks"))
    yield


def _line(writer: int, seq: int, size: int) -> str:
    head = f"w{writer}-{seq}:"
    return head + "x" * (size - len(head) - 1) + "$"


def _check_lines(lines: list[str], writers: int, per_writer: int, size: int) -> None:
    expected = {_line(w, s, size) for w in range(writers) for s in range(per_writer)}
    torn = [line[:40] for line in lines if line not in expected]
    assert torn == [], f"{len(torn)} torn or foreign lines"
    assert len(lines) == len(set(lines)) == len(expected)


def _pipe_writer(fd: int, writer: int, count: int, size: int) -> None:
    stream = os.fdopen(fd, "w", closefd=False)
    handler = logging.StreamHandler(stream)
    assert delivery.make_safe(handler)
    for seq in range(count):
        handler.handle(logging.makeLogRecord({"msg": _line(writer, seq, size)}))
    stream.flush()


def _read_all(fd: int, out: list[bytes]) -> None:
    while chunk := os.read(fd, 1 << 20):
        out.append(chunk)


def _drained_pipe() -> tuple[int, int, threading.Thread, list[bytes]]:
    """A pipe whose read end a started thread collects into the returned chunks."""
    read_fd, write_fd = os.pipe()
    chunks: list[bytes] = []
    reader = threading.Thread(target=_read_all, args=(read_fd, chunks))
    reader.start()
    return read_fd, write_fd, reader, chunks


def _run_forked(target: Callable[..., None], args_each: list[tuple[object, ...]]) -> None:
    """One forked process per argument tuple, all started before any is joined."""
    procs = [_FORK.Process(target=target, args=args) for args in args_each]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0


def _forked_pipe_lines(sizes: list[int], count: int) -> list[str]:
    """Writer w writes `count` lines of `sizes[w]` bytes, all on one pipe; the lines read."""
    read_fd, write_fd, reader, chunks = _drained_pipe()
    _run_forked(_pipe_writer, [(write_fd, w, count, size) for w, size in enumerate(sizes)])
    os.close(write_fd)
    reader.join(60)
    os.close(read_fd)
    return b"".join(chunks).decode().splitlines()


@pytest.mark.parametrize("size", [200_000, 1_000])
def test_forked_writers_on_one_pipe_write_whole_lines(size: int) -> None:
    writers, count = 4, 40
    lines = _forked_pipe_lines([size] * writers, count)
    _check_lines(lines, writers, count, size)


def _held_elsewhere(key: str) -> bool:
    fd = os.open(os.path.join(delivery.lock_dir(), key), os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def _child_probe(key: str, result: multiprocessing.queues.Queue[bool]) -> None:  # type: ignore[name-defined]
    # The lock the child takes is its own (a new open file description), so it must
    # not get it while the parent holds it.
    fd, _ = delivery._lock_for(key)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        result.put(True)
    else:
        result.put(False)


def test_a_forked_child_does_not_share_the_parents_lock() -> None:
    key = "probe.lock"
    queue: multiprocessing.queues.Queue[bool] = _FORK.Queue()  # type: ignore[name-defined]
    fd, _ = delivery._lock_for(key)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        assert _held_elsewhere(key)
        proc = _FORK.Process(target=_child_probe, args=(key, queue))
        proc.start()
        blocked = queue.get(timeout=30)
        proc.join(30)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
    assert blocked is True
    assert not _held_elsewhere(key)


def _rotating_writer(path: str, writer: int, count: int, size: int) -> None:
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=20_000, backupCount=10_000)
    assert delivery.make_safe(handler)
    for seq in range(count):
        handler.handle(logging.makeLogRecord({"msg": _line(writer, seq, size)}))
    handler.close()


def _all_lines(base: Path) -> list[str]:
    lines: list[str] = []
    for path in base.parent.glob(base.name + "*"):
        lines.extend(path.read_text().splitlines())
    return lines


def test_forked_rotating_writers_lose_nothing(tmp_path: Path) -> None:
    base = tmp_path / "audit.jsonl"
    writers, count, size = 4, 150, 1_000
    _run_forked(_rotating_writer, [(str(base), w, count, size) for w in range(writers)])
    _check_lines(_all_lines(base), writers, count, size)
    files = list(tmp_path.glob("audit.jsonl*"))
    assert len(files) > 10  # rotation happened, and often
    assert all(p.stat().st_size <= 20_000 for p in files)


def test_two_rotating_handlers_on_one_file_rotate_once(tmp_path: Path) -> None:
    base = tmp_path / "a.log"
    first = logging.handlers.RotatingFileHandler(base, maxBytes=250, backupCount=50)
    second = logging.handlers.RotatingFileHandler(base, maxBytes=250, backupCount=50)
    for handler in (first, second):
        assert delivery.make_safe(handler)
    for seq in range(40):
        (first if seq % 3 else second).handle(logging.makeLogRecord({"msg": _line(0, seq, 100)}))
    for handler in (first, second):
        handler.close()
    _check_lines(_all_lines(base), 1, 40, 100)
    # 100-byte lines, 250-byte files: two lines a file, so exactly 20 files.
    assert len(list(tmp_path.glob("a.log*"))) == 20


def test_timed_rotation_by_one_handler_is_followed_by_the_other(tmp_path: Path) -> None:
    base = tmp_path / "t.log"
    first = logging.handlers.TimedRotatingFileHandler(base, when="D", backupCount=5)
    second = logging.handlers.TimedRotatingFileHandler(base, when="D", backupCount=5)
    for handler in (first, second):
        assert delivery.make_safe(handler)
    first.handle(logging.makeLogRecord({"msg": "one"}))
    second.handle(logging.makeLogRecord({"msg": "two"}))
    # Both think the period is over; only the first to write may rotate.
    first.rolloverAt = second.rolloverAt = int(first.rolloverAt) - 86_400
    first.handle(logging.makeLogRecord({"msg": "three"}))
    second.handle(logging.makeLogRecord({"msg": "four"}))
    for handler in (first, second):
        handler.close()
    rotated = list(tmp_path.glob("t.log.*"))
    assert len(rotated) == 1
    assert rotated[0].read_text().splitlines() == ["one", "two"]
    assert base.read_text().splitlines() == ["three", "four"]


def test_watched_file_handler_follows_a_moved_file(tmp_path: Path) -> None:
    base = tmp_path / "w.log"
    handler = logging.handlers.WatchedFileHandler(base)
    assert delivery.make_safe(handler)
    handler.handle(logging.makeLogRecord({"msg": "before"}))
    base.rename(tmp_path / "w.log.1")
    handler.handle(logging.makeLogRecord({"msg": "after"}))
    handler.close()
    assert base.read_text() == "after\n"
    assert (tmp_path / "w.log.1").read_text() == "before\n"


class _Custom(logging.StreamHandler):  # type: ignore[type-arg]
    def emit(self, record: logging.LogRecord) -> None:  # pragma: no cover - never called
        pass


def test_install_makes_audit_handlers_safe_and_reports_the_rest(tmp_path: Path) -> None:
    logger = logging.getLogger("sec_audit.audit")
    known = logging.FileHandler(tmp_path / "f.log")
    custom = _Custom()
    plain = logging.StreamHandler()  # no audit formatter: not ours to touch
    for handler in (known, custom):
        handler.setFormatter(JSONLLogFormatter())
    old = logger.handlers[:]
    logger.handlers = [known, custom, plain]
    try:
        unsafe = delivery.install()
    finally:
        logger.handlers = old
        known.close()
    assert delivery.is_safe(known)
    assert unsafe == [custom]
    assert not delivery.is_safe(plain)


def test_write_errors_go_to_handle_error(tmp_path: Path) -> None:
    read_fd, write_fd = os.pipe()
    stream = os.fdopen(write_fd, "w")
    handler = logging.StreamHandler(stream)
    delivery.make_safe(handler)
    failures: list[logging.LogRecord] = []
    handler.handleError = failures.append  # type: ignore[method-assign]
    os.close(read_fd)
    handler.handle(logging.makeLogRecord({"msg": "lost"}))  # EPIPE: must not raise
    assert len(failures) == 1
    try:
        stream.close()
    except OSError:
        pass


def test_a_stream_without_a_descriptor_is_written_as_before() -> None:
    import io

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    assert delivery.make_safe(handler)
    handler.handle(logging.makeLogRecord({"msg": "in memory"}))
    assert stream.getvalue() == "in memory\n"


def _inherited_writer(handler: logging.Handler, writer: int, count: int, size: int) -> None:
    for seq in range(count):
        handler.handle(logging.makeLogRecord({"msg": _line(writer, seq, size)}))


def test_a_handler_made_safe_before_fork_locks_per_child() -> None:
    # gunicorn --preload: the handler and its lock file are made in the parent; each
    # child must take a lock of its own, or the children would not exclude each other.
    read_fd, write_fd, reader, chunks = _drained_pipe()
    stream = os.fdopen(write_fd, "w")
    handler = logging.StreamHandler(stream)
    assert delivery.make_safe(handler)
    handler.handle(logging.makeLogRecord({"msg": _line(9, 0, 100_000)}))  # opens the lock
    writers, count, size = 4, 30, 100_000
    _run_forked(_inherited_writer, [(handler, w, count, size) for w in range(writers)])
    stream.close()
    reader.join(60)
    os.close(read_fd)
    lines = b"".join(chunks).decode().splitlines()
    assert lines[0] == _line(9, 0, 100_000)
    _check_lines(lines[1:], writers, count, size)


def test_install_reaches_the_target_of_a_queue(tmp_path: Path) -> None:
    from sec_audit.logging.handlers import QueuedJSONLHandler

    target = logging.FileHandler(tmp_path / "q.log")
    queued = QueuedJSONLHandler(target=target)
    queued.setFormatter(JSONLLogFormatter())
    logger = logging.getLogger("sec_audit.audit")
    old = logger.handlers[:]
    logger.handlers = [queued]
    try:
        assert delivery.install() == []
    finally:
        logger.handlers = old
        queued.close()
        target.close()
    assert delivery.is_safe(target)


def test_an_unusable_lock_directory_still_writes_and_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.unit._logging_helpers import internal_capture

    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv(delivery.LOCK_DIR_ENV_VAR, str(blocker / "locks"))
    target = tmp_path / "u.log"
    handler = logging.FileHandler(target)
    assert delivery.make_safe(handler)
    with internal_capture() as captured:
        handler.handle(logging.makeLogRecord({"msg": "still here"}))
    handler.close()
    assert target.read_text() == "still here\n"
    assert captured.reasons == ["audit.delivery_unlocked"]


def _flock_modes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    modes: list[int] = []
    real = fcntl.flock

    def recording(fd: int, operation: int) -> None:
        if operation != fcntl.LOCK_UN:
            modes.append(operation)
        real(fd, operation)

    monkeypatch.setattr(delivery.fcntl, "flock", recording)
    return modes


@pytest.mark.parametrize(
    ("size", "mode"),
    [(100, fcntl.LOCK_SH), (4096, fcntl.LOCK_SH), (4097, fcntl.LOCK_EX), (200_000, fcntl.LOCK_EX)],
)
def test_a_pipe_line_up_to_pipe_buf_takes_the_lock_shared(
    monkeypatch: pytest.MonkeyPatch, size: int, mode: int
) -> None:
    assert delivery.select.PIPE_BUF == 4096
    modes = _flock_modes(monkeypatch)
    read_fd, write_fd, reader, chunks = _drained_pipe()
    stream = os.fdopen(write_fd, "w")
    handler = logging.StreamHandler(stream)
    assert delivery.make_safe(handler)
    handler.handle(logging.makeLogRecord({"msg": _line(0, 0, size - 1)}))  # + "\n"
    stream.close()
    reader.join(30)
    os.close(read_fd)
    assert b"".join(chunks) == (_line(0, 0, size - 1) + "\n").encode()
    assert modes == [mode]


def test_a_file_line_takes_the_lock_exclusive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    modes = _flock_modes(monkeypatch)
    file_handler = logging.FileHandler(tmp_path / "a.log")
    with open(tmp_path / "b.log", "w") as stream:
        for handler in (file_handler, logging.StreamHandler(stream)):
            assert delivery.make_safe(handler)
            handler.handle(logging.makeLogRecord({"msg": "small"}))
        file_handler.close()
    assert modes == [fcntl.LOCK_EX, fcntl.LOCK_EX]
    assert (tmp_path / "a.log").read_text() == (tmp_path / "b.log").read_text() == "small\n"


def test_forked_small_and_large_writers_on_one_pipe_tear_nothing() -> None:
    # Small lines (shared lock, atomic writes) must not land inside a large line
    # (exclusive lock, split by the kernel when the pipe fills).
    sizes = [200_000, 1_000, 1_000, 1_000]
    lines = _forked_pipe_lines(sizes, 30)
    expected = {_line(w, s, size) for w, size in enumerate(sizes) for s in range(30)}
    assert [line[:40] for line in lines if line not in expected] == []
    assert len(lines) == len(set(lines)) == len(expected)
