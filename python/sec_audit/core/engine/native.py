"""`NativeEngine`: the Rust engine (`sec_audit._native`) behind the engine API.

The adapter only compiles: it hands the extension plain data from `EngineConfig` (keys,
limits, detector names), each user pattern's plan from `plan_pattern` together with its
`ValuePattern` (for `python` plans and the windows Rust leaves to the host), and a few helpers
for the rare cases the Rust walk leaves to Python: the value types of step 7-12 of
docs/engine.md (`classify`) and request bodies the streaming parser cannot decide
exactly (the reference's `capture_body`). Every call then goes straight to Rust.
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Callable, Mapping
from typing import Any

from .config import EngineConfig
from .fragment import BodyFragment
from .patterns import PatternPlan, plan_pattern
from .python.patterns import ValuePattern, pattern_report
from .python.projection import _STRINGIFIED, unserializable

__all__ = ["NativeEngine"]

# Kinds understood by the Rust walk (rust/sec-audit-py/src/render.rs).
_TEXT, _ENUM, _MAPPING, _MARKER, _SEQUENCE = 0, 1, 2, 3, 4


def classify(value: Any) -> tuple[int, Any]:
    """Steps 7-12 of *Projection of one value* for a value that is not None, bool,
    int, float, str, bytes or bytearray, in the reference's order."""
    if isinstance(value, datetime.date):
        return _TEXT, value.isoformat()
    if isinstance(value, _STRINGIFIED):
        return _TEXT, str(value)
    if isinstance(value, enum.Enum):
        return _ENUM, value.value
    if isinstance(value, Mapping):
        return _MAPPING, None
    if isinstance(value, (set, frozenset)):
        return _MARKER, unserializable(value)
    if isinstance(value, (list, tuple)):
        return _SEQUENCE, None
    return _MARKER, unserializable(value)


class NativeEngine:
    """Same API as `PythonEngine`; byte-identical output (tests/parity)."""

    name = "native"

    render: Callable[..., str]
    render_event: Callable[..., str]
    project: Callable[..., str]
    capture_body: Callable[[bytes], tuple[str, BodyFragment | None]]

    def __init__(self, config: EngineConfig) -> None:
        from ... import _native

        self.config = config
        mode = config.value_scrub_mode
        self._plans: list[PatternPlan] = [plan_pattern(p, mode) for p in config.value_patterns]
        # What the host runs (non-ASCII windows, `python` plans) and who reports a
        # step-limit hit: the same objects as the Python engine's.
        self.value_patterns = [
            ValuePattern(i, p, mode) for i, p in enumerate(config.value_patterns)
        ]
        self._reference: Any = None
        limits = config.limits
        self._engine = _native.Engine(
            sensitive_keys=list(config.sensitive_keys),
            key_allowlist=sorted(config.key_allowlist),
            key_tokens=list(config.key_tokens),
            patterns=[
                (plan.plan, plan.rust_source, value_pattern)
                for plan, value_pattern in zip(self._plans, self.value_patterns, strict=True)
            ],
            detectors=list(config.secret_detectors),
            mode=mode,
            limits=(
                limits.max_depth,
                limits.max_mapping_entries,
                limits.max_sequence_length,
                limits.max_string_length,
                limits.max_attributes,
            ),
            max_body_bytes=config.max_body_bytes,
            body_field_allowlist=list(config.body_field_allowlist),
            classify=classify,
            fragment_cls=BodyFragment,
            mapping_cls=Mapping,
            int_repr=int.__repr__,
            body_fallback=self._reference_capture,
        )
        # Bound methods of the extension: no Python frame per call.
        self.render = self._engine.render
        self.render_event = self._engine.render_event
        self.project = self._engine.project
        self.capture_body = self._engine.capture_body

    def _reference_capture(self, data: bytes) -> tuple[str, BodyFragment | None]:
        """The rare bodies streaming cannot decide exactly (repeated keys, lone
        surrogate escapes, huge integers, colliding output keys)."""
        if self._reference is None:
            from .python.engine import PythonEngine

            self._reference = PythonEngine(self.config)
        result: tuple[str, BodyFragment | None] = self._reference.capture_body(data)
        return result

    def pattern_report(self) -> list[dict[str, Any]]:
        plans = list(self._plans)
        for index, reason in self._engine.demoted_patterns():
            plans[index] = PatternPlan("python", None, reason)
        return pattern_report(self.value_patterns, plans)
