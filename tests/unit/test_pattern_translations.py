"""The bounded translations of a value pattern give Python's `re` answer on any text.

`fancy` (fancy-regex, native engine) is checked by mapping its Rust spelling back to
Python syntax; `regex` (the third-party module, Python engine) by running it. Both are
compared with the original pattern on hypothesis text that mixes ASCII, accented and
case-folding traps (Kelvin sign, long s, dotless i), digits of other scripts, newlines
and (for `regex`) lone surrogates: same verdict, same spans.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sec_audit.core.engine.patterns import plan_pattern, regex_source

regex = pytest.importorskip("regex")

# One or more of each construct the linear engine cannot run, and the flags.
CONSTRUCTS = [
    r"foo(?=bar)",
    r"foo(?!bar)\w",
    r"(?<=id=)\d+",
    r"(?<!x)y+",
    r"(?<=\b)k\w",
    r"(\w)\1",
    r"(?P<q>['\"]).*?(?P=q)",
    r"(?i)(k)\1",
    r"(?>ab|a)c",
    r"(?>\w+)\d",
    r"a++b",
    r"\d*+5",
    r"x?+x",
    r"(<)?\w+(?(1)>)",
    r"(a)?(?(1)b|c)",
    r"(?m)^x$",
    r"(?m)^\w+$",
    r"a$b",
    r"end$",
    r"(?s)a.b(?=c)",
    r"(?x) a \  b (?= c )",
    r"(?i)(?<=k)s",
    r"(?a)\w+(?=!)",
    r"\B\w\B",
    r"\bé\w*",
    r"(?i)\u0131|(?<=i)I",
    r"(?:^|(?<=,))\d{3}(?=,|$)",
]

_ALPHABET = "abcfoxyzkKsSiI019_=!,'\"<>é\u212a\u017f\u0131\u0130\u0660\u00b2 \n\t"
text = st.text(alphabet=st.sampled_from(_ALPHABET), max_size=30)
any_text = st.text(max_size=20)


@cache
def fancy_to_python(source: str) -> re.Pattern[str]:
    """The Rust spelling `plan_pattern` emits for fancy-regex, in Python syntax."""

    def escape(m: re.Match[str]) -> str:
        code = int(m.group(1), 16)
        return rf"\U{code:08x}"

    text_ = re.sub(r"\\x\{([0-9A-F]+)\}", escape, source)
    return re.compile(text_.replace(r"\z", r"\Z"))


@cache
def compiled(pattern: str, mode: str) -> tuple[Any, str]:
    source, why = regex_source(re.compile(pattern), mode)
    return (None if source is None else regex.compile(source, regex.VERSION0)), why


def _spans(pattern: object, value: str) -> list[tuple[int, int]]:
    return [m.span() for m in pattern.finditer(value) if m.end() > m.start()]  # type: ignore[attr-defined]


def _agree(original: re.Pattern[str], other: object, value: str) -> None:
    first = original.search(value)
    second = other.search(value)  # type: ignore[attr-defined]
    assert (first and first.span()) == (second and second.span()), value
    assert _spans(original, value) == _spans(other, value), value


@pytest.mark.parametrize("pattern", CONSTRUCTS)
def test_every_construct_has_a_bounded_native_plan(pattern: str) -> None:
    plan = plan_pattern(re.compile(pattern), "value")
    if pattern == r"(?i)(k)\1":  # the one construct left to re (docs/engine.md)
        assert (plan.plan, plan.reason) == ("python", "case-insensitive back-reference")
    else:
        assert plan.plan in ("rust", "fancy"), plan


@settings(max_examples=40, deadline=None)
@given(data=st.data())
@pytest.mark.parametrize("pattern", CONSTRUCTS)
def test_fancy_translation_agrees_with_re(pattern: str, data: st.DataObject) -> None:
    original = re.compile(pattern)
    value = data.draw(
        st.one_of(text, any_text.filter(lambda s: not re.search("[\ud800-\udfff]", s)))
    )
    for mode in ("value", "match"):
        plan = plan_pattern(original, mode)
        if plan.plan != "fancy":
            continue
        assert plan.rust_source is not None
        _agree(original, fancy_to_python(plan.rust_source), value)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
@pytest.mark.parametrize(
    "pattern",
    [*CONSTRUCTS, r"\s+\S", r"(?i)[k-m]+", r"[^\W\d]{2}", r"\W", r"a*", r"x|", r"\b", r"(?=a)"],
)
def test_regex_translation_agrees_with_re(pattern: str, data: st.DataObject) -> None:
    original = re.compile(pattern)
    value = data.draw(st.one_of(text, any_text))
    for mode in ("value", "match"):
        bounded, why = compiled(pattern, mode)
        if bounded is None:
            assert why == "case-insensitive back-reference"
            continue
        _agree(original, bounded, value)
        # Empty matches included: `regex` steps past them as `re` does.
        all_spans = [m.span() for m in bounded.finditer(value)]
        assert [m.span() for m in original.finditer(value)] == all_spans


def test_what_regex_alone_would_get_wrong_is_spelled_out() -> None:
    # `regex`'s own \s misses U+001C-U+001F and its \w takes marks and superscripts;
    # the translation keeps Python's sets.
    for pattern, value in ((r"\s", "\x1c"), (r"\w", "\u00b2"), (r"\w", "\u0301")):
        source, _ = regex_source(re.compile(pattern), "value")
        assert source is not None
        assert bool(regex.compile(source).search(value)) == bool(re.search(pattern, value))
        assert bool(regex.compile(pattern).search(value)) != bool(re.search(pattern, value))


def test_case_insensitive_back_references_stay_in_re_for_regex() -> None:
    source, why = regex_source(re.compile(r"(?i)(k)\1"), "value")
    assert source is None and why == "case-insensitive back-reference"
