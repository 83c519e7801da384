"""`PythonEngine`: the reference implementation of docs/engine.md."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..detectors import DetectorSet
from ..fragment import BodyFragment
from .body import BodyCapture
from .json_writer import encode_str
from .keys import KeyMatcher
from .patterns import ValuePattern, pattern_report
from .projection import Projector, verbatim_projector
from .strings import StringRule

if TYPE_CHECKING:
    from ..config import EngineConfig

__all__ = ["PythonEngine"]


class PythonEngine:
    """Everything is compiled in `__init__`; each call is one bounded walk."""

    name = "python"

    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        limits = config.limits
        self.value_patterns = [
            ValuePattern(i, p, config.value_scrub_mode) for i, p in enumerate(config.value_patterns)
        ]
        self._strings = StringRule(
            self.value_patterns,
            DetectorSet(config.secret_detectors),
            config.value_scrub_mode,
            limits.max_string_length,
        )
        self._projector = Projector(
            limits,
            KeyMatcher(config.sensitive_keys, config.key_allowlist, config.key_tokens),
            self._strings,
        )
        self._verbatim = verbatim_projector()
        self._capture = BodyCapture(
            config.max_body_bytes, config.body_field_allowlist, self._project_body
        )

    def render(self, envelope: Mapping[str, Any], compact: bool = False) -> str:
        """One JSON line (no newline) for the formatter's envelope."""
        walk = self._projector.walk(compact)
        out = walk.out
        out.append("{")
        for index, (key, value) in enumerate(envelope.items()):
            if index:
                out.append(walk.item_sep)
            out.append(encode_str(key if type(key) is str else str(key)))
            out.append(walk.key_sep)
            if key == "attributes" and isinstance(value, Mapping):
                walk.attributes(value)
            elif key in ("attributes", "body"):
                if isinstance(value, str):
                    out.append(encode_str(self._strings.apply(value, True)))
                else:
                    walk.value(value, 1, scan=True, redact=True)
            else:
                # Our own members (timestamps, severity, resource, scope, trace ids):
                # verbatim, no limits and no scrubbing; cycles and markers still apply.
                self._verbatim.walk(compact, out).value(value, 0, scan=False, redact=False)
        out.append("}")
        return walk.text()

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
    ) -> str:
        """`render` of an audit event's envelope, assembled from its members in the
        line's order (docs/events.md, The line); `trace` is None or
        `(trace_id, span_id, trace_flags)`, written last when given."""
        envelope: dict[str, Any] = {
            "timestamp": timestamp,
            "observed_timestamp": observed_timestamp,
            "severity_text": severity_text,
            "severity_number": severity_number,
            "body": body,
            "resource": {"service.name": service},
            "instrumentation_scope": scope,
            "attributes": attributes,
            "event_name": event_name,
        }
        if trace is not None:
            if type(trace) is not tuple or len(trace) != 3:
                raise TypeError("trace must be None or a (trace_id, span_id, trace_flags) tuple")
            envelope["trace_id"], envelope["span_id"], envelope["trace_flags"] = trace
        return self.render(envelope, compact)

    def project(self, value: Any, compact: bool = False) -> str:
        """One value as a top-level attribute value (depth 1), without key exemptions."""
        walk = self._projector.walk(compact)
        if isinstance(value, BodyFragment):
            walk.fragment(value)
        else:
            walk.value(value, 1, scan=True, redact=True)
        return walk.text()

    def capture_body(self, data: bytes) -> tuple[str, BodyFragment | None]:
        return self._capture(data)

    def pattern_report(self) -> list[dict[str, Any]]:
        return pattern_report(self.value_patterns, None)

    def _project_body(self, obj: dict[str, Any]) -> str:
        walk = self._projector.walk(False)
        walk.value(obj, 1, scan=True, redact=True)
        return walk.text()
