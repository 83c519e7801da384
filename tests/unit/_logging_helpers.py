"""Shared helpers for the logging-layer tests (not a test module)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sec_audit.logging import diagnostics


class Capture(logging.Handler):
    """Collects records (for sec_audit.internal assertions)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    @property
    def reasons(self) -> list[str]:
        return [getattr(r, "audit_reason", "") for r in self.records if r.levelno >= logging.INFO]

    @property
    def lines(self) -> list[str]:
        return [r.getMessage() for r in self.records if r.levelno >= logging.INFO]


@contextmanager
def internal_capture() -> Iterator[Capture]:
    """Capture sec_audit.internal with a fresh rate limiter."""
    diagnostics.reset()
    logger = logging.getLogger("sec_audit.internal")
    handler = Capture()
    old_level, old_propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        logger.propagate = old_propagate
        diagnostics.reset()


@contextmanager
def audit_logger(name: str) -> Iterator[tuple[logging.Logger, Capture]]:
    """A private INFO logger with a capturing handler, restored afterwards."""
    logger = logging.getLogger(name)
    handler = Capture()
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield logger, handler
    finally:
        logger.removeHandler(handler)
        logger.filters.clear()
        logger.disabled = False
