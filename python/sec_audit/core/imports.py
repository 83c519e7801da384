"""Resolve dotted `module.attr` paths from the settings (filters, enrichers)."""

from __future__ import annotations

import importlib

from .errors import AuditImportError

__all__ = ["import_string", "is_dotted_path"]


def is_dotted_path(text: str) -> bool:
    """True for `module.attr` shapes: two or more identifiers joined by dots."""
    parts = text.split(".")
    return len(parts) >= 2 and all(part.isidentifier() for part in parts)


def import_string(dotted: str) -> object:
    """Import `pkg.mod.attr` and return the attribute.

    Any failure (bad shape, missing module, error while importing it, missing
    attribute) is an `AuditImportError` naming the path; the cause stays chained.
    """
    if not isinstance(dotted, str):
        raise AuditImportError(
            f"Import path must be a string (got {type(dotted).__name__} {dotted!r})."
        )
    if not is_dotted_path(dotted):
        raise AuditImportError(f"{dotted!r} is not a dotted path of the form 'module.attr'.")
    module_path, _, attr = dotted.rpartition(".")
    try:
        module = importlib.import_module(module_path)
    except Exception as exc:  # a broken module raises anything; the chain keeps the detail
        raise AuditImportError(
            f"Cannot import {dotted!r}: importing module {module_path!r} failed "
            f"({type(exc).__name__}: {exc})."
        ) from exc
    try:
        return getattr(module, attr)
    except AttributeError as exc:
        raise AuditImportError(
            f"Cannot import {dotted!r}: module {module_path!r} has no attribute {attr!r}."
        ) from exc
