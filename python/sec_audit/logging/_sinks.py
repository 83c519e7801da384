"""Compatibility path: the original documents `QueuedJSONLHandler` here.

Our handler lives in `sec_audit.logging.queued` (public path: `sec_audit.logging.handlers`); this module
only re-exports it so settings written for the original keep working.
"""

from __future__ import annotations

from .queued import QueuedJSONLHandler

__all__ = ["QueuedJSONLHandler"]
