"""Type stub for the Rust extension `sec_audit._native` (rust/sec-audit-py)."""

from collections.abc import Callable, Sequence
from typing import Any, final

# PyO3 sets __all__ on the module to everything added to it (mypy.stubtest checks it).
__all__ = ["Engine", "__version__", "_panic_for_tests"]

__version__: str

@final
class Engine:
    def __new__(
        cls,
        *,
        sensitive_keys: Sequence[str],
        key_allowlist: Sequence[str],
        # (plan, translation, ValuePattern): see sec_audit.core.engine.patterns.
        patterns: Sequence[tuple[str, str | None, Any]],
        detectors: Sequence[str],
        mode: str,
        limits: tuple[int, int, int, int, int],
        max_body_bytes: int,
        body_field_allowlist: Sequence[str],
        classify: Callable[[Any], tuple[int, Any]],
        fragment_cls: type,
        mapping_cls: type,
        int_repr: Callable[[int], str],
        body_fallback: Callable[[bytes], tuple[str, Any]],
        key_tokens: Sequence[str] = ...,
    ) -> Engine: ...
    def render(self, envelope: Any, compact: bool = False) -> str: ...
    def project(self, value: Any, compact: bool = False) -> str: ...
    def capture_body(self, data: bytes | bytearray | memoryview) -> tuple[str, Any]: ...
    def demoted_patterns(self) -> list[tuple[int, str]]: ...
    def body_needs_fallback(self, data: bytes) -> bool: ...

def _panic_for_tests() -> None: ...
