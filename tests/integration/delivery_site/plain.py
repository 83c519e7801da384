"""The stdlib rotating handler exactly as the stdlib writes: the control case.

Overriding `emit` (with the stdlib's own) makes the handler one delivery does not
recognise, so `ready()` leaves it alone: each worker rotates on its own, as without
this package. Used by the gunicorn tests and docs/delivery.md's measured control.
"""

from __future__ import annotations

from logging import LogRecord
from logging.handlers import RotatingFileHandler


class PlainRotatingFileHandler(RotatingFileHandler):
    def emit(self, record: LogRecord) -> None:
        RotatingFileHandler.emit(self, record)
