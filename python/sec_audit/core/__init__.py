"""Framework-free core: settings, events, context, client IP (no Django import here).

The engine package (`sec_audit.core.engine`) is not imported here: it imports
`config`, and importing it eagerly would also pick the engine at import time.
"""

from __future__ import annotations

from .config import (
    DEFAULT_SENSITIVE_KEYS,
    CoreAuditConfig,
    DjangoAuditConfig,
    LoggingAuditConfig,
    ProjectionLimits,
    SecAuditSettings,
)
from .context import AuditContext
from .errors import AuditConfigurationError, AuditImportError, ProjectionError
from .events import AuditEvent, EventType
from .imports import import_string

__all__ = [
    "DEFAULT_SENSITIVE_KEYS",
    "AuditConfigurationError",
    "AuditContext",
    "AuditEvent",
    "AuditImportError",
    "CoreAuditConfig",
    "DjangoAuditConfig",
    "EventType",
    "LoggingAuditConfig",
    "ProjectionError",
    "ProjectionLimits",
    "SecAuditSettings",
    "import_string",
]
