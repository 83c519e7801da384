"""Exceptions raised by the framework-free core."""

from __future__ import annotations

__all__ = ["AuditConfigurationError", "AuditImportError", "ProjectionError"]


class AuditConfigurationError(ValueError):
    """A `SEC_AUDIT` setting is wrong; the message names the key path."""


class AuditImportError(AuditConfigurationError):
    """A dotted path in the settings could not be imported."""


class ProjectionError(ValueError):
    """A value could not be projected into a JSON-safe shape."""
