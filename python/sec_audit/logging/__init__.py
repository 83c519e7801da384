"""Framework-free audit logging: emission, pipeline, formatter, diagnostics.

Nothing here imports Django. Names are loaded lazily so that importing
`sec_audit.logging.diagnostics` (or the loki CLI) does not build an engine.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sec_audit.core.config import LoggingAuditConfig
    from sec_audit.core.events import AuditEvent

    from .emission import LoggingRuntime, emit_event
    from .formatters import JSONLLogFormatter
    from .pipeline import AuditEnricher, AuditFilter, AuditPipeline

__all__ = [
    "AuditEnricher",
    "AuditEvent",
    "AuditFilter",
    "AuditPipeline",
    "JSONLLogFormatter",
    "LoggingAuditConfig",
    "LoggingRuntime",
    "emit_event",
]

_WHERE = {
    "AuditEnricher": ".pipeline",
    "AuditFilter": ".pipeline",
    "AuditPipeline": ".pipeline",
    "JSONLLogFormatter": ".formatters",
    "LoggingRuntime": ".emission",
    "emit_event": ".emission",
    "AuditEvent": "sec_audit.core.events",
    "LoggingAuditConfig": "sec_audit.core.config",
}


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(where, __name__), name)
