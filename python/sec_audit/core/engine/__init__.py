"""The engine facade: pick the native (Rust) or the Python reference engine.

`SEC_AUDIT_ENGINE=auto|native|python` (default auto: native when it imports). Asking
for native when it is missing is an error, never a silent fallback.
"""

from __future__ import annotations

import importlib
import os
from typing import Any, Literal, Protocol

from ..errors import AuditConfigurationError
from .config import EngineConfig
from .fragment import BodyFragment

__all__ = [
    "ENGINE_ENV_VAR",
    "BodyFragment",
    "Engine",
    "EngineConfig",
    "EngineUnavailableError",
    "active_engine_name",
    "build_engine",
    "native_available",
]

ENGINE_ENV_VAR = "SEC_AUDIT_ENGINE"
ENGINE_KINDS = ("auto", "native", "python")
EngineName = Literal["native", "python"]


class EngineUnavailableError(RuntimeError):
    """The native engine was required but `sec_audit._native` cannot be used."""


class Engine(Protocol):
    """What both engines offer (docs/engine.md, API)."""

    name: str
    config: EngineConfig

    def render(self, envelope: Any, compact: bool = False) -> str: ...
    def render_event(
        self,
        timestamp: Any,
        observed_timestamp: Any,
        severity_text: Any,
        severity_number: Any,
        body: Any,
        service: Any,
        scope: Any,
        attributes: Any,
        event_name: Any,
        trace: tuple[Any, Any, Any] | None = None,
        compact: bool = False,
    ) -> str: ...
    def project(self, value: Any, compact: bool = False) -> str: ...
    def capture_body(self, data: bytes) -> tuple[str, BodyFragment | None]: ...
    def pattern_report(self) -> list[dict[str, Any]]: ...


def native_available() -> bool:
    """True iff `sec_audit._native` imports and provides `Engine`."""
    try:
        module = importlib.import_module("sec_audit._native")
    except ImportError:
        return False
    return hasattr(module, "Engine")


def _requested(kind: str | None) -> str:
    if kind is None:
        kind = os.environ.get(ENGINE_ENV_VAR, "auto").strip().lower() or "auto"
        if kind not in ENGINE_KINDS:
            raise AuditConfigurationError(
                f"{ENGINE_ENV_VAR}={os.environ.get(ENGINE_ENV_VAR)!r} is not valid; "
                f"accepted values: {', '.join(ENGINE_KINDS)}."
            )
    elif kind not in ENGINE_KINDS:
        raise AuditConfigurationError(
            f"engine kind {kind!r} is not valid; accepted values: {', '.join(ENGINE_KINDS)}."
        )
    return kind


def _resolve(kind: str | None) -> EngineName:
    requested = _requested(kind)
    if requested == "python":
        return "python"
    if native_available():
        return "native"
    if requested == "native":
        raise EngineUnavailableError(
            "the native engine was requested (SEC_AUDIT_ENGINE=native or kind='native') "
            "but sec_audit._native cannot be imported; install a wheel built for this "
            "platform or use SEC_AUDIT_ENGINE=python"
        )
    return "python"


def active_engine_name() -> EngineName:
    """The engine `build_engine(cfg)` would pick now (same errors as build_engine)."""
    return _resolve(None)


def build_engine(cfg: EngineConfig, kind: str | None = None) -> Engine:
    """Compile `cfg` into an engine; `kind` None reads SEC_AUDIT_ENGINE."""
    if _resolve(kind) == "native":
        from .native import NativeEngine

        return NativeEngine(cfg)  # type: ignore[no-any-return]
    from .python.engine import PythonEngine

    return PythonEngine(cfg)
