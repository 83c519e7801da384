"""User value patterns as the Python side runs them, bounded where it can be.

`ValuePattern` is what the reference engine's string rule calls, and what the native
engine's host calls for the windows and plans Rust does not run itself (non-ASCII
windows, `python` plans). When the third-party `regex` module is installed, a pattern
runs through its exact translation for `regex` (`plan.regex_source`: the same answer
as Python's `re`) with a `timeout` on every call; otherwise through `re`, unbounded
(the configuration-time refusal of `sec_audit.core.pattern_safety` is then the only
guard). Where the bound is hit the value fails closed (`[REDACTED]`), and the hit is
reported, rate-limited, on `sec_audit.internal`; the native engine's own step limit
reports through `report_limit` too, so both engines write the same diagnostic.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from types import ModuleType
from typing import Any, Literal

from ..patterns import PatternPlan, regex_source

__all__ = ["LIMIT_REASON", "PATTERN_TIMEOUT", "ValuePattern", "pattern_report", "regex_module"]

# Seconds one `regex` call may take (a search, or one `finditer` scan).
PATTERN_TIMEOUT = 0.1
LIMIT_REASON = "audit.pattern_limit"


def regex_module() -> ModuleType | None:
    """The third-party `regex` module, or None when it is not installed."""
    try:
        import regex
    except ImportError:
        return None
    return regex


class ValuePattern:
    """One user pattern: `search(text) -> bool`, `spans(text) -> list | None`."""

    __slots__ = ("_bounded", "index", "path", "pattern", "reason")

    def __init__(self, index: int, pattern: re.Pattern[str], mode: str) -> None:
        self.index = index
        self.pattern = pattern
        self._bounded: Any = None
        self.path: Literal["regex-with-timeout", "python re"] = "python re"
        module = regex_module()
        if module is None:
            self.reason = "unbounded: the regex module is not installed"
            return
        source, why = regex_source(pattern, mode)
        if source is None:
            self.reason = f"unbounded: no exact translation for regex ({why})"
            return
        try:
            self._bounded = module.compile(source, module.VERSION0)
        except (module.error, RecursionError, OverflowError, MemoryError) as exc:
            self.reason = f"unbounded: the regex module refused the translation ({exc})"
            return
        self.path = "regex-with-timeout"
        self.reason = f"exact translation, {PATTERN_TIMEOUT} s timeout per call"

    @property
    def bounded(self) -> bool:
        return self._bounded is not None

    def search(self, text: str) -> bool:
        """Does the pattern search `text`? True also where the bound was hit."""
        if self._bounded is None:
            return self.pattern.search(text) is not None
        try:
            return self._bounded.search(text, timeout=PATTERN_TIMEOUT) is not None
        except TimeoutError:
            self.report_limit()
            return True

    def spans(self, text: str) -> list[tuple[int, int]] | None:
        """Spans of the non-empty matches; None where the bound was hit."""
        if self._bounded is None:
            return [m.span() for m in self.pattern.finditer(text) if m.end() > m.start()]
        try:
            return [
                m.span()
                for m in self._bounded.finditer(text, timeout=PATTERN_TIMEOUT)
                if m.end() > m.start()
            ]
        except TimeoutError:
            self.report_limit()
            return None

    def report_limit(self) -> None:
        """The bound was hit and the value written as `[REDACTED]` (never raises)."""
        from ....logging.diagnostics import report

        report(
            LIMIT_REASON,
            f"value pattern {self.index} {self.pattern.pattern!r} of "
            "SEC_AUDIT['core']['sensitive_value_patterns'] hit its backtracking bound; "
            "the value was written as [REDACTED]. Make the pattern possessive or atomic.",
        )


_NATIVE_PATHS = {"rust": "linear", "fancy": "bounded backtracking"}


def pattern_report(
    patterns: Sequence[ValuePattern], plans: Sequence[PatternPlan] | None
) -> list[dict[str, Any]]:
    """Per pattern, which engine path runs it and whether every path is bounded.

    `plans` are the native engine's plans (None for the Python engine): `path` is the
    one most windows take, `other_windows` the `ValuePattern` path for the rest
    (non-ASCII windows of a `rust` plan, lone surrogates for `fancy`).
    """
    report: list[dict[str, Any]] = []
    for index, value_pattern in enumerate(patterns):
        entry: dict[str, Any] = {"pattern": value_pattern.pattern.pattern}
        if plans is None:
            entry.update(path=value_pattern.path, bounded=value_pattern.bounded)
            entry["reason"] = value_pattern.reason
        else:
            plan = plans[index]
            native = _NATIVE_PATHS.get(plan.plan)
            entry["plan"] = plan.plan
            entry["path"] = native or value_pattern.path
            entry["other_windows"] = value_pattern.path if native else None
            # Some windows always reach the ValuePattern: it decides.
            entry["bounded"] = value_pattern.bounded
            entry["reason"] = f"{plan.reason}; {value_pattern.reason}"
        report.append(entry)
    return report
