"""Configuration-time check that a value pattern cannot backtrack catastrophically.

`unbounded_construct(pattern)` walks the parse tree of Python's `re` (`re._parser`,
formerly `sre_parse`) and names the first construct that can take exponential time on
a backtracking engine: an unbounded repetition whose body holds another variable
repetition (`(a+)+`, `(\\w*)*`, `(?:a|ab+)+`), or a back-reference inside a repetition
(`(a)(\\1)+`). Atomic groups and possessive quantifiers (Python >= 3.11) never
backtrack into their body, so a nested quantifier under one is accepted: `(?>a+)+`,
`(a++)+`, `(?:a+)++`.
"""

from __future__ import annotations

from typing import Any

try:  # Python >= 3.11
    import re._constants as _c
    import re._parser as _parser
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as _c  # type: ignore[no-redef]
    import sre_parse as _parser  # type: ignore[no-redef]

__all__ = ["unbounded_construct"]

_REPEATS = {_c.MAX_REPEAT, _c.MIN_REPEAT}
_POSSESSIVE = getattr(_c, "POSSESSIVE_REPEAT", None)
_ATOMIC = getattr(_c, "ATOMIC_GROUP", None)
_MAXREPEAT = _c.MAXREPEAT


def _children(op: Any, av: Any) -> list[Any]:
    """The sub-patterns of one parse-tree node."""
    if op in _REPEATS or op == _POSSESSIVE:
        return [av[2]]
    if op == _c.SUBPATTERN:
        return [av[-1]]
    if op == _c.BRANCH:
        return list(av[1])
    if op in (_c.ASSERT, _c.ASSERT_NOT):
        return [av[1]]
    if op == _c.GROUPREF_EXISTS:
        return [p for p in av[1:] if p is not None]
    if op == _ATOMIC:
        return [av]
    return []


def _variable_repeat(seq: Any) -> bool:
    """Does `seq` hold a repetition of variable count (outside atomic/possessive)?"""
    for op, av in seq:
        if op in _REPEATS and av[0] != av[1]:
            return True
        if op in (_ATOMIC, _POSSESSIVE):
            continue
        if any(_variable_repeat(child) for child in _children(op, av)):
            return True
    return False


def _has_backref(seq: Any) -> bool:
    for op, av in seq:
        if op == _c.GROUPREF:
            return True
        if any(_has_backref(child) for child in _children(op, av)):
            return True
    return False


def _walk(seq: Any) -> str | None:
    for op, av in seq:
        if op in _REPEATS and av[1] > 1:
            body = av[2]
            if av[1] == _MAXREPEAT and _variable_repeat(body):
                return "a nested quantifier (a repetition inside an unbounded repetition)"
            if _has_backref(body):
                return "a back-reference under repetition"
        if op in (_ATOMIC, _POSSESSIVE):
            continue
        for child in _children(op, av):
            found = _walk(child)
            if found:
                return found
    return None


def unbounded_construct(pattern: str, flags: int = 0) -> str | None:
    """The catastrophic-backtracking construct in `pattern`, or None."""
    return _walk(_parser.parse(pattern, flags))
