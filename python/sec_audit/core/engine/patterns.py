"""How each value pattern runs: which engine path, and its translation for that path.

Python `re` syntax is the contract. A translation is exact by construction: every
single-character node becomes the explicit set of characters Python itself matches
with it (so IGNORECASE, `\\w`, `\\s`, `.` and ranges cannot drift), and anchors and
word boundaries are spelled out. Three targets (docs/engine.md, *Value patterns*):

- `rust`: the linear-time Rust `regex` crate, exact on ASCII text (native engine);
- `fancy`: `fancy-regex` with a backtracking step limit, for what the linear engine
  cannot run (look-around, back-references, atomic groups, possessive repeats,
  conditionals, MULTILINE anchors), exact on all text without lone surrogates (native
  engine);
- `regex`: the third-party `regex` module, whose `timeout` bounds every call, exact on
  all text (Python engine, and the native engine's non-ASCII windows), used when it is
  installed.

Anything else runs through the compiled Python `re` pattern, unbounded.
"""

from __future__ import annotations

import array
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

__all__ = ["PatternPlan", "plan_pattern", "regex_source"]

_SINGLE_CHAR = (_c.LITERAL, _c.NOT_LITERAL, _c.ANY, _c.IN)
# Flags that change which characters a node matches; the rest are parse-only here.
_CHAR_FLAGS = re.IGNORECASE | re.DOTALL | re.ASCII | re.UNICODE | re.LOCALE
_TYPE_FLAGS = re.ASCII | re.UNICODE | re.LOCALE
# What the linear Rust engine cannot run; the backtracking targets can.
_BACKTRACKING = {
    "GROUPREF": "back-reference",
    "GROUPREF_EXISTS": "conditional group",
    "ASSERT": "look-around",
    "ASSERT_NOT": "look-around",
    "ATOMIC_GROUP": "atomic group",
    "POSSESSIVE_REPEAT": "possessive repeat",
}
NEVER_MATCHING_CLASS = r"[^\x00-\x{10FFFF}]"
RUST_REASON = "translated: exact on ASCII text"
FANCY_REASON = (
    "bounded backtracking (fancy-regex step limit): exact on text without lone surrogates"
)
# Python < 3.14: `\B` never matches the empty string.
_NON_BOUNDARY_ON_EMPTY = re.search(r"\B", "") is not None
_ASCII_RANGE = 128
_UNICODE_RANGE = sys.maxunicode + 1

Target = Literal["rust", "fancy", "regex"]


@dataclass(frozen=True, slots=True)
class PatternPlan:
    """How the native engine runs one pattern: `rust` (linear), `fancy` (bounded
    backtracking) on ASCII windows, else (and for non-ASCII windows) the host."""

    plan: Literal["rust", "fancy", "python"]
    rust_source: str | None
    reason: str


class _NotTranslatable(Exception):
    pass


def _combine_flags(flags: int, add: int, remove: int) -> int:
    # As re's compiler does for `(?a:...)`-style scoped flags.
    if add & _TYPE_FLAGS:
        flags &= ~_TYPE_FLAGS
    return (flags | add) & ~remove


Runs = tuple[tuple[int, int], ...]  # sorted, disjoint, inclusive code point ranges

_RUNS_CACHE: dict[tuple[str, str, int, int], Runs] = {}


def _every_code_point() -> str:
    """Every code point in order, lone surrogates included (4.4 MB; built per use from
    a packed array, so no million one-character strings are ever alive)."""
    packed = array.array("I", range(_UNICODE_RANGE)).tobytes()
    return packed.decode("utf-32-le" if sys.byteorder == "little" else "utf-32-be", "surrogatepass")


def _char_runs(op: Any, av: Any, flags: int, universe: int) -> Runs:
    """The code points below `universe` that one single-character node matches under
    `flags`, as runs.

    Compiles the node alone with Python's own compiler and asks it, so the answer is
    Python's by construction: the 128 ASCII characters one by one; all of Unicode in
    one C-level scan of `node+` over every code point in order, where each maximal
    match is one run (no per-character objects). Cached on the node, flags, universe.
    """
    flags &= _CHAR_FLAGS
    key = (str(op), repr(av), flags, universe)
    cached = _RUNS_CACHE.get(key)
    if cached is None:
        state = _sre_parse.State()
        state.flags = flags
        if universe == _ASCII_RANGE:
            node = _sre_compile.compile(_sre_parse.SubPattern(state, [(op, av)]), flags)
            codes = [code for code in range(128) if node.fullmatch(chr(code))]
            cached = _runs(codes)
        else:
            node_alone = _sre_parse.SubPattern(state, [(op, av)])
            repeat: Any = [(_c.MAX_REPEAT, (1, _c.MAXREPEAT, node_alone))]
            scan = _sre_compile.compile(_sre_parse.SubPattern(state, repeat), flags)
            cached = tuple((m.start(), m.end() - 1) for m in scan.finditer(_every_code_point()))
        if len(_RUNS_CACHE) >= 4096:
            _RUNS_CACHE.clear()
        _RUNS_CACHE[key] = cached
    return cached


def _runs(codes: list[int]) -> Runs:
    """Runs of sorted, distinct code points."""
    runs: list[tuple[int, int]] = []
    for code in codes:
        if runs and code == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], code)
        else:
            runs.append((code, code))
    return tuple(runs)


def _without_surrogates(runs: Runs) -> Runs:
    out: list[tuple[int, int]] = []
    for start, stop in runs:
        if start < 0xD800:
            out.append((start, min(stop, 0xD7FF)))
        if stop > 0xDFFF:
            out.append((max(start, 0xE000), stop))
    return tuple(out)


def _rust_escape(code: int) -> str:
    return rf"\x{{{code:02X}}}"


def _python_escape(code: int) -> str:
    if code < 0x100:
        return rf"\x{code:02x}"
    return rf"\u{code:04x}" if code < 0x10000 else rf"\U{code:08x}"


def _class(runs: Runs, escape: Any, never: str) -> str:
    """A character class of exactly the code points of `runs`."""
    if not runs:
        return never
    parts: list[str] = []
    for start, stop in runs:
        if stop - start >= 2:
            parts.append(escape(start) + "-" + escape(stop))
        else:
            parts.extend(escape(c) for c in range(start, stop + 1))
    return "[" + "".join(parts) + "]"


def _rust_class(runs: Runs) -> str:
    return _class(runs, _rust_escape, NEVER_MATCHING_CLASS)


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


_WORD_NODE = (_c.IN, [(_c.CATEGORY, _c.CATEGORY_WORD)])


class _Translator:
    """One parse tree -> source for `target` (module docstring)."""

    def __init__(self, mode: str, target: Target) -> None:
        self.mode = mode
        self.target = target
        self.universe = _ASCII_RANGE if target == "rust" else _UNICODE_RANGE
        # End of text in the target's syntax.
        self.end = r"\Z" if target == "regex" else r"\z"

    def char_class(self, runs: Runs) -> str:
        if self.target == "regex":
            return _class(runs, _python_escape, "(?!)")
        if self.target == "fancy":
            # Rust text has no lone surrogates (such windows go to the host).
            runs = _without_surrogates(runs)
        return _rust_class(runs)

    def sequence(self, items: Any, flags: int, top: bool = False) -> str:
        last = len(items) - 1
        return "".join(
            self.node(op, av, flags, trailing=top and i == last) for i, (op, av) in enumerate(items)
        )

    def node(self, op: Any, av: Any, flags: int, trailing: bool) -> str:
        if op in _SINGLE_CHAR:
            return self.char_class(_char_runs(op, av, flags, self.universe))
        if op is _c.SUBPATTERN:
            group, add, remove, sub = av
            opening = "(" if group is not None and self.target != "rust" else "(?:"
            return opening + self.sequence(sub, _combine_flags(flags, add, remove)) + ")"
        if op is _c.BRANCH:
            return "(?:" + "|".join(self.sequence(alt, flags) for alt in av[1]) + ")"
        if op in (_c.MAX_REPEAT, _c.MIN_REPEAT):
            low, high, sub = av
            inner = self.sequence(sub, flags)
            return "(?:" + inner + ")" + _quantifier(low, high, op is _c.MIN_REPEAT)
        if op is _c.AT:
            return self.anchor(av, flags, trailing)
        name = getattr(op, "name", str(op))
        if self.target == "rust" or name not in _BACKTRACKING:
            raise _NotTranslatable(_BACKTRACKING.get(name, f"unsupported construct {name}"))
        return self.backtracking(name, av, flags)

    def backtracking(self, name: str, av: Any, flags: int) -> str:
        if name == "GROUPREF":
            if flags & re.IGNORECASE:
                # fancy-regex and regex fold differently from re (the Kelvin sign).
                raise _NotTranslatable("case-insensitive back-reference")
            return rf"(?:\{av})"
        if name == "GROUPREF_EXISTS":
            group, yes, no = av
            text = f"(?({group})" + self.sequence(yes, flags)
            if no is not None:
                text += "|" + self.sequence(no, flags)
            return text + ")"
        if name in ("ASSERT", "ASSERT_NOT"):
            direction, sub = av
            kind = (
                ("=" if name == "ASSERT" else "!")
                if direction == 1
                else ("<=" if name == "ASSERT" else "<!")
            )
            return f"(?{kind}" + self.sequence(sub, flags) + ")"
        if name == "ATOMIC_GROUP":
            return "(?>" + self.sequence(av, flags) + ")"
        # POSSESSIVE_REPEAT: an atomic group around the greedy repetition.
        low, high, sub = av
        return "(?>(?:" + self.sequence(sub, flags) + ")" + _quantifier(low, high, False) + ")"

    def anchor(self, at: Any, flags: int, trailing: bool) -> str:
        if self.target != "rust":
            return self.spelled_anchor(at, flags)
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

    def spelled_anchor(self, at: Any, flags: int) -> str:
        """Anchors as look-arounds, so they mean what Python's mean wherever they are."""
        end = self.end
        if at in (_c.AT_BEGINNING_STRING, _c.AT_BEGINNING) and not (
            at is _c.AT_BEGINNING and flags & re.MULTILINE
        ):
            return r"\A"
        if at is _c.AT_BEGINNING:
            return r"(?:\A|(?<=\n))"
        if at is _c.AT_END_STRING:
            return end
        if at is _c.AT_END:
            return rf"(?=\n|{end})" if flags & re.MULTILINE else rf"(?=\n?{end})"
        if at not in (_c.AT_BOUNDARY, _c.AT_NON_BOUNDARY):
            raise _NotTranslatable(f"unsupported anchor {at}")
        if flags & re.LOCALE:
            raise _NotTranslatable("LOCALE word boundary")
        word = self.char_class(_char_runs(*_WORD_NODE, flags, self.universe))
        if at is _c.AT_BOUNDARY:
            return rf"(?:(?<={word})(?!{word})|(?<!{word})(?={word}))"
        inside = rf"(?:(?<={word})(?={word})|(?<!{word})(?!{word}))"
        return inside if _NON_BOUNDARY_ON_EMPTY else rf"(?!\A{end}){inside}"


def _translate(pattern: re.Pattern[Any], mode: str, target: Target) -> str:
    """The source for `target`; raises `_NotTranslatable` with the reason."""
    if not isinstance(pattern.pattern, str):
        raise _NotTranslatable("bytes pattern")
    try:
        parsed = _sre_parse.parse(pattern.pattern, pattern.flags)
    except (re.error, RecursionError, OverflowError) as exc:  # pragma: no cover - compiled already
        raise _NotTranslatable(f"cannot be parsed: {exc}") from None
    try:
        source = _Translator(mode, target).sequence(parsed.data, parsed.state.flags, top=True)
    except RecursionError:
        raise _NotTranslatable("nested too deeply to translate") from None
    if mode == "match" and target != "regex" and parsed.getwidth()[0] == 0:
        # Rust's iterators step past an empty match differently from Python's; the
        # `regex` module's VERSION0 steps like `re` (tests/unit/test_pattern_translations).
        raise _NotTranslatable("can match the empty string (match mode)")
    return source


def plan_pattern(pattern: re.Pattern[Any], mode: str) -> PatternPlan:
    """The native plan of one value pattern for `value_scrub_mode` `mode` (docs/engine.md)."""
    try:
        return PatternPlan("rust", _translate(pattern, mode, "rust"), RUST_REASON)
    except _NotTranslatable as exc:
        linear_reason = str(exc)
    try:
        return PatternPlan("fancy", _translate(pattern, mode, "fancy"), FANCY_REASON)
    except _NotTranslatable as exc:
        return PatternPlan("python", None, str(exc) or linear_reason)


def regex_source(pattern: re.Pattern[str], mode: str) -> tuple[str | None, str]:
    """(source for the `regex` module, exact on all text, or None to keep `re`; why)."""
    try:
        return _translate(pattern, mode, "regex"), "translated"
    except _NotTranslatable as exc:
        return None, str(exc)
