"""Type stub for the Rust extension `sec_audit._native` (rust/sec-audit-py)."""

from collections.abc import Callable, Sequence
from typing import Any, final

# PyO3 sets __all__ on the module to everything added to it (mypy.stubtest checks it).
__all__ = ["KEY_EXEMPT", "VALUE_EXEMPT", "Engine", "__version__"]

__version__: str
# The walk's exemption tables (rust/sec-audit-engine/src/projection.rs).
KEY_EXEMPT: frozenset[str]
VALUE_EXEMPT: frozenset[str]

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
    def capture_body(self, data: bytes | bytearray | memoryview) -> tuple[str, Any]: ...
    def demoted_patterns(self) -> list[tuple[int, str]]: ...
    def body_needs_fallback(self, data: bytes) -> bool: ...

# `_panic_for_tests()` exists only in the test build (cargo feature `test-hooks`); it is
# set outside `__all__`, so it is not part of this stub.
