"""Compatibility path: the original documents `QueuedJSONLHandler` here.

Our handler lives in `sec_audit.logging.handlers` (supported, tested); this module
only re-exports it so settings written for the original keep working.
"""

from __future__ import annotations

from .handlers import QueuedJSONLHandler

__all__ = ["QueuedJSONLHandler"]
