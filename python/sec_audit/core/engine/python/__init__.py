"""The pure-Python reference engine: the readable definition of docs/engine.md."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["PythonEngine"]

if TYPE_CHECKING:
    from .engine import PythonEngine


def __getattr__(name: str) -> Any:
    # Lazy, so `engine.config` can import `keys` without loading the whole engine.
    if name == "PythonEngine":
        from .engine import PythonEngine

        return PythonEngine
    raise AttributeError(name)
