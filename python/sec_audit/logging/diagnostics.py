"""Diagnostics about the audit machinery itself, on the `sec_audit.internal` logger.

A lost or degraded audit record must be visible to operators, but a failure that
repeats on every request must not flood the log: each reason code is written at most
once per window (monotonic clock), and the next line says how many were suppressed.
Nothing here ever raises into the caller.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["INTERNAL_LOGGER_NAME", "WINDOW_SECONDS", "debug", "report", "reset"]

INTERNAL_LOGGER_NAME = "sec_audit.internal"
WINDOW_SECONDS = 60.0
# Reason codes are our own constants; the cap only guards against a caller that
# builds reasons from data.
_MAX_REASONS = 1024
_MAX_MESSAGE = 2048

_logger = logging.getLogger(INTERNAL_LOGGER_NAME)
_lock = threading.Lock()
# Set while this thread is inside logger.log(): a handler that reports again (for
# example our formatter fed a diagnostic record) must not recurse.
_local = threading.local()
clock: Callable[[], float] = time.monotonic


@dataclass
class _Window:
    last: float
    suppressed: int = 0


_windows: dict[str, _Window] = {}


def _describe(message: str, exc: BaseException | None) -> str:
    text = message if len(message) <= _MAX_MESSAGE else message[:_MAX_MESSAGE] + "..."
    if exc is not None:
        # The type only: an exception message may quote the very data we scrub.
        text = f"{text} ({type(exc).__module__}.{type(exc).__qualname__})"
    return text


def _admit(reason: str, now: float) -> int | None:
    """None when suppressed; otherwise the number suppressed since the last line."""
    with _lock:
        window = _windows.get(reason)
        if window is not None and now - window.last < WINDOW_SECONDS:
            window.suppressed += 1
            return None
        if window is None and len(_windows) >= _MAX_REASONS:
            _windows.clear()
        suppressed = window.suppressed if window is not None else 0
        _windows[reason] = _Window(last=now)
        return suppressed


def _emit(level: int, text: str, reason: str, suppressed: int) -> None:
    if getattr(_local, "busy", False):
        return
    _local.busy = True
    try:
        _logger.log(
            level,
            text,
            extra={"audit_reason": reason, "audit_suppressed": suppressed},
        )
    finally:
        _local.busy = False


def report(
    reason: str,
    message: str,
    *,
    level: int = logging.WARNING,
    exc: BaseException | None = None,
) -> bool:
    """Write `reason: message` unless `reason` was written in the last 60 s.

    Returns True when a line was written. Never raises.
    """
    try:
        if not _logger.isEnabledFor(level):
            return False
        suppressed = _admit(reason, clock())
        if suppressed is None:
            return False
        text = f"{reason}: {_describe(message, exc)}"
        if suppressed:
            text += f" [{suppressed} similar suppressed in the last {WINDOW_SECONDS:.0f}s]"
        _emit(level, text, reason, suppressed)
        return True
    except Exception:  # diagnostics must never break the audited code path
        return False


def debug(reason: str, message: str, *, exc: BaseException | None = None) -> None:
    """An unthrottled DEBUG line (details behind a rate-limited report)."""
    try:
        if _logger.isEnabledFor(logging.DEBUG):
            _emit(logging.DEBUG, f"{reason}: {_describe(message, exc)}", reason, 0)
    except Exception:
        pass


def reset() -> None:
    """Forget every window (tests; a fresh process state)."""
    with _lock:
        _windows.clear()
