"""How the native engine runs each value pattern: a Rust `regex` translation or Python.

Python `re` syntax is the contract. A pattern is translated only when the Rust regex
gives the same answer as Python on every ASCII text: every single-character node
becomes the explicit set of ASCII characters Python itself matches with it (so
IGNORECASE, `\\w`, `\\s`, `.` and ranges cannot drift), and the few anchors are mapped
one to one. Anything else runs through the compiled Python pattern.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Any, Literal

if sys.version_info >= (3, 11):
    from re import _compiler as _sre_compile
    from re import _constants as _c
    from re import _parser as _sre_parse
else:  # pragma: no cover - Python 3.10
    import sre_compile as _sre_compile
    import sre_constants as _c
    import sre_parse as _sre_parse

__all__ = ["PatternPlan", "plan_pattern"]

_SINGLE_CHAR = (_c.LITERAL, _c.NOT_LITERAL, _c.ANY, _c.IN)
# Flags that change which characters a node matches; the rest are parse-only here.
_CHAR_FLAGS = re.IGNORECASE | re.DOTALL | re.ASCII | re.UNICODE | re.LOCALE
_TYPE_FLAGS = re.ASCII | re.UNICODE | re.LOCALE
_UNSUPPORTED = {
    "GROUPREF": "back-reference",
    "GROUPREF_EXISTS": "conditional group",
    "ASSERT": "look-around",
    "ASSERT_NOT": "look-around",
    "ATOMIC_GROUP": "atomic group",
    "POSSESSIVE_REPEAT": "possessive repeat",
}
NEVER_MATCHING_CLASS = r"[^\x00-\x{10FFFF}]"
RUST_REASON = "translated: exact on ASCII text"


@dataclass(frozen=True, slots=True)
class PatternPlan:
    plan: Literal["rust", "python"]
    rust_source: str | None
    reason: str


class _NotTranslatable(Exception):
    pass


def _combine_flags(flags: int, add: int, remove: int) -> int:
    # As re's compiler does for `(?a:...)`-style scoped flags.
    if add & _TYPE_FLAGS:
        flags &= ~_TYPE_FLAGS
    return (flags | add) & ~remove


_SET_CACHE: dict[tuple[str, str, int], frozenset[int]] = {}


def _char_set(op: Any, av: Any, flags: int) -> frozenset[int]:
    """ASCII code points that one single-character node matches under `flags`.

    Compiles the node alone with Python's own compiler and asks it, so the answer is
    Python's by construction. Cached on the node's text and flags.
    """
    flags &= _CHAR_FLAGS
    key = (str(op), repr(av), flags)
    cached = _SET_CACHE.get(key)
    if cached is None:
        state = _sre_parse.State()
        state.flags = flags
        compiled = _sre_compile.compile(_sre_parse.SubPattern(state, [(op, av)]), flags)
        cached = frozenset(code for code in range(128) if compiled.fullmatch(chr(code)))
        if len(_SET_CACHE) >= 4096:
            _SET_CACHE.clear()
        _SET_CACHE[key] = cached
    return cached


def _rust_class(codes: frozenset[int]) -> str:
    if not codes:
        return NEVER_MATCHING_CLASS
    ordered = sorted(codes)
    parts: list[str] = []
    run_start = prev = ordered[0]
    for code in [*ordered[1:], -2]:
        if code == prev + 1:
            prev = code
            continue
        if prev - run_start >= 2:
            parts.append(rf"\x{{{run_start:02X}}}-\x{{{prev:02X}}}")
        else:
            parts.extend(rf"\x{{{c:02X}}}" for c in range(run_start, prev + 1))
        run_start = prev = code
    return "[" + "".join(parts) + "]"


def _quantifier(low: int, high: int, lazy: bool) -> str:
    if high == _c.MAXREPEAT:
        text = {0: "*", 1: "+"}.get(low, f"{{{low},}}")
    elif (low, high) == (0, 1):
        text = "?"
    elif low == high:
        text = f"{{{low}}}"
    else:
        text = f"{{{low},{high}}}"
    return text + ("?" if lazy else "")


class _Translator:
    def __init__(self, mode: str) -> None:
        self.mode = mode

    def sequence(self, items: Any, flags: int, top: bool = False) -> str:
        last = len(items) - 1
        return "".join(
            self.node(op, av, flags, trailing=top and i == last) for i, (op, av) in enumerate(items)
        )

    def node(self, op: Any, av: Any, flags: int, trailing: bool) -> str:
        if op in _SINGLE_CHAR:
            return _rust_class(_char_set(op, av, flags))
        if op is _c.SUBPATTERN:
            _group, add, remove, sub = av
            return "(?:" + self.sequence(sub, _combine_flags(flags, add, remove)) + ")"
        if op is _c.BRANCH:
            return "(?:" + "|".join(self.sequence(alt, flags) for alt in av[1]) + ")"
        if op in (_c.MAX_REPEAT, _c.MIN_REPEAT):
            low, high, sub = av
            inner = self.sequence(sub, flags)
            return "(?:" + inner + ")" + _quantifier(low, high, op is _c.MIN_REPEAT)
        if op is _c.AT:
            return self.anchor(av, flags, trailing)
        name = getattr(op, "name", str(op))
        reason = _UNSUPPORTED.get(name, f"unsupported construct {name}")
        raise _NotTranslatable(reason)

    def anchor(self, at: Any, flags: int, trailing: bool) -> str:
        multiline = flags & re.MULTILINE
        if at is _c.AT_BEGINNING_STRING:
            return r"\A"
        if at is _c.AT_END_STRING:
            return r"\z"
        if at is _c.AT_BEGINNING:
            if multiline:
                raise _NotTranslatable("MULTILINE anchor")
            return r"\A"
        if at is _c.AT_END:
            if multiline:
                raise _NotTranslatable("MULTILINE anchor")
            if not trailing:
                raise _NotTranslatable("$ not at the end of the pattern")
            if self.mode != "value":
                raise _NotTranslatable("$ in match mode")
            # `$` also matches before one final newline; only the verdict counts here.
            return r"\n?\z"
        if at is _c.AT_BOUNDARY:
            # Same word characters as Python's on ASCII text, Unicode flag or not.
            return r"(?-u:\b)"
        if at is _c.AT_NON_BOUNDARY:
            # Python's \B never matches the empty string; Rust's does.
            raise _NotTranslatable(r"\B (differs from Rust on the empty string)")
        raise _NotTranslatable(f"unsupported anchor {at}")


def plan_pattern(pattern: re.Pattern[Any], mode: str) -> PatternPlan:
    """The plan of one value pattern for `value_scrub_mode` `mode` (docs/engine.md)."""
    if not isinstance(pattern.pattern, str):
        return PatternPlan("python", None, "bytes pattern")
    try:
        parsed = _sre_parse.parse(pattern.pattern, pattern.flags)
    except (re.error, RecursionError, OverflowError) as exc:  # pragma: no cover - compiled already
        return PatternPlan("python", None, f"cannot be parsed: {exc}")
    flags = parsed.state.flags
    try:
        source = _Translator(mode).sequence(parsed.data, flags, top=True)
    except _NotTranslatable as exc:
        return PatternPlan("python", None, str(exc))
    except RecursionError:
        return PatternPlan("python", None, "nested too deeply to translate")
    if mode == "match" and parsed.getwidth()[0] == 0:
        return PatternPlan("python", None, "can match the empty string (match mode)")
    return PatternPlan("rust", source, RUST_REASON)
