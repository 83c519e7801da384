"""`capture_body`: request bytes -> (parse status, scrubbed bounded JSON fragment)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from ..fragment import BodyFragment

__all__ = ["MAX_BODY_NESTING", "BodyCapture", "too_deep"]

MAX_BODY_NESTING = 256
_UTF8_BOM = b"\xef\xbb\xbf"
# A JSON string (escapes respected; an unterminated one runs to the end) or a bracket.
_STRING_OR_BRACKET = re.compile(rb'"[^"\\]*(?:\\[\s\S][^"\\]*)*"?|[\[\]{}]')


def too_deep(data: bytes, limit: int = MAX_BODY_NESTING) -> bool:
    """Pre-scan: does `[`/`{` nesting outside strings exceed `limit` at any point?

    A plain counter (closers decrement, never clamped), so the answer is defined for
    malformed input too; json.loads then rejects whatever is not valid JSON.
    """
    depth = 0
    for m in _STRING_OR_BRACKET.finditer(data):
        token = m.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif token in (b"]", b"}"):
            depth -= 1
    return False


class BodyCapture:
    """The capture steps of docs/engine.md, in order; `project` writes the fragment."""

    def __init__(
        self,
        max_body_bytes: int,
        field_allowlist: tuple[str, ...],
        project: Callable[[Any], str],
    ) -> None:
        self._max_bytes = max_body_bytes
        self._allow = frozenset(field_allowlist)
        self._project = project

    def __call__(self, data: bytes) -> tuple[str, BodyFragment | None]:
        data = bytes(data)
        if len(data) > self._max_bytes:
            return "too_large", None
        if not data:
            return "empty", None
        if too_deep(data):
            return "too_deep", None
        parsed = _parse(data)
        if parsed is _INVALID:
            return "invalid_json", None
        if not isinstance(parsed, dict):
            return "unsupported_shape", None
        if self._allow:
            parsed = {k: v for k, v in parsed.items() if k in self._allow}
        if not parsed:
            return "empty", None
        return "ok", BodyFragment(self._project(parsed))


_INVALID = object()


def _parse(data: bytes) -> Any:
    """Strict UTF-8 without BOM, then CPython json.loads (NaN/Infinity accepted)."""
    if data.startswith(_UTF8_BOM):
        return _INVALID
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return _INVALID
