"""The string rule: value patterns and detectors on a bounded window, then truncation."""

from __future__ import annotations

from collections.abc import Sequence

from ..detectors import DetectorSet
from .patterns import ValuePattern

__all__ = ["REDACTED", "TRUNCATED", "WINDOW_MARGIN", "StringRule", "merge_spans"]

REDACTED = "[REDACTED]"
TRUNCATED = "[TRUNCATED]"
# Patterns see a little past the cut, so a secret straddling it still redacts.
WINDOW_MARGIN = 1024


def merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, disjoint spans; overlapping or touching spans become one."""
    merged: list[tuple[int, int]] = []
    for start, stop in sorted(spans):
        if merged and start <= merged[-1][1]:
            if stop > merged[-1][1]:
                merged[-1] = (merged[-1][0], stop)
        else:
            merged.append((start, stop))
    return merged


class StringRule:
    """`apply(s, scan)` -> the text to write for one string value (not yet escaped)."""

    def __init__(
        self,
        patterns: Sequence[ValuePattern],
        detectors: DetectorSet,
        mode: str,
        max_length: int,
    ) -> None:
        self._patterns = tuple(patterns)
        self._detectors = detectors
        self._match_mode = mode == "match"
        self._max = max_length
        self._window = max_length + WINDOW_MARGIN
        self._scans = bool(self._patterns) or bool(detectors)

    def truncate(self, text: str) -> str:
        """Keys and unscanned values: at most `max_string_length` code points + marker."""
        if len(text) > self._max:
            return text[: self._max] + TRUNCATED
        return text

    def apply(self, text: str, scan: bool = True) -> str:
        if not (scan and self._scans):
            return self.truncate(text)
        # Slicing copies at most W code points: a 100 MB string only touches the window.
        window = text[: self._window]
        if not self._match_mode:
            if any(p.search(window) for p in self._patterns) or self._detectors.any_hit(window):
                return REDACTED
            return self.truncate(text)
        spans = self._match_spans(window)
        if spans is None:
            return REDACTED  # a pattern hit its bound: fail closed
        if not spans:
            return self.truncate(text)
        return self._splice(text, spans)

    def _match_spans(self, window: str) -> list[tuple[int, int]] | None:
        spans: list[tuple[int, int]] = []
        for pattern in self._patterns:
            found = pattern.spans(window)
            if found is None:
                return None
            spans.extend(found)
        spans.extend(self._detectors.hits(window))
        return merge_spans(spans)

    def _splice(self, text: str, spans: list[tuple[int, int]]) -> str:
        """Copy plain text up to the cut; a span starting before it is replaced whole."""
        limit = self._max
        parts: list[str] = []
        pos = 0
        for start, stop in spans:
            if start >= limit:
                break
            parts.append(text[pos:start])
            parts.append(REDACTED)
            pos = stop
        if pos < limit:
            parts.append(text[pos:limit])
            pos = min(limit, len(text))
        if len(text) > pos:
            parts.append(TRUNCATED)
        return "".join(parts)
