"""plan_pattern: which value patterns run as Rust regex, and that the translation is exact.

Rust cannot run here, so the emitted source is mapped back to Python syntax (only the
few Rust-only spellings we emit differ) and compared with the original pattern on
hypothesis-generated ASCII text: same verdict, same spans.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sec_audit.core.engine.patterns import (
    FANCY_REASON,
    NEVER_MATCHING_CLASS,
    RUST_REASON,
    plan_pattern,
)


def rust_to_python(source: str) -> re.Pattern[str]:
    """The Rust syntax we emit, in Python spelling (ASCII semantics for `\\b`)."""
    text = source.replace(r"\x{10FFFF}", r"\U0010FFFF")
    text = re.sub(r"\\x\{([0-9A-F]{2})\}", r"\\x\1", text)
    text = text.replace(r"(?-u:\b)", r"\b").replace(r"(?-u:\B)", r"\B").replace(r"\z", r"\Z")
    return re.compile(text, re.ASCII)


TRANSLATABLE = [
    r"\d{16}",
    r"secret",
    r"(?i)secret",
    r"(?i)se(?-i:CR)et",
    r"(?i:k)ey",
    r"(?i)ſ|K",  # long s and Kelvin sign match ASCII letters under IGNORECASE
    r"[a-f0-9]{8}-[a-f0-9]{4}",
    r"(?i)[^a-z0-9]+",
    r"[\w.-]+@[\w-]+\.[a-z]{2,}",
    r"(?a)\w+\W",
    r"\s+\S",
    r"\D\d",
    r".+?x",
    r"(?s).+?x",
    r"a.b",
    r"[]\-^]+",
    r"[^\n]",
    r"x[\t ]*=",
    r"é|a",
    r"(?x) a  b  # comment",
    r"(?P<name>ab)+c",
    r"(?:ab|a)(?:bc|c)",
    r"a{2,3}?b",
    r"a{3}",
    r"a{0,2}b+",
    r"(a|b|c)*d",
    r"(?:x|)y",
    r"\bkey\b",
    r"^abc",
    r"\Aabc",
    r"abc\Z",
    r"[\x00-\x1f\x7f]",
    r"[\u00e0-\u00ff]a",
    r"\$\d+\.\d\d",
    r"pass(?:word)?\s*[:=]\s*\S+",
]


@pytest.mark.parametrize("pattern", TRANSLATABLE)
@pytest.mark.parametrize("mode", ["value", "match"])
def test_translatable_patterns(pattern: str, mode: str) -> None:
    plan = plan_pattern(re.compile(pattern), mode)
    assert (plan.plan, plan.reason) == ("rust", RUST_REASON)
    assert plan.rust_source is not None
    rust_to_python(plan.rust_source)


@pytest.mark.parametrize(
    ("pattern", "mode"),
    [
        (r"(?<=a)b", "value"),
        (r"a(?!b)", "value"),
        (r"(a)\1", "value"),
        (r"(a)?(?(1)b|c)", "value"),
        (r"(?>ab)", "value"),
        (r"a++", "value"),
        (r"(?m)^a", "value"),
        (r"(?m)a$", "value"),
        (r"a$b", "value"),
        (r"a$|b", "value"),
        (r"(a$)", "value"),
        (r"a$", "match"),
        (r"a\Bb", "value"),
    ],
)
def test_bounded_backtracking_plans(pattern: str, mode: str) -> None:
    plan = plan_pattern(re.compile(pattern), mode)
    assert (plan.plan, plan.reason) == ("fancy", FANCY_REASON)
    assert plan.rust_source is not None


@pytest.mark.parametrize(
    ("pattern", "mode", "reason"),
    [
        (r"a*", "match", "can match the empty string (match mode)"),
        (r"", "match", "can match the empty string (match mode)"),
        (r"\b", "match", "can match the empty string (match mode)"),
        (r"x|", "match", "can match the empty string (match mode)"),
        (r"(?=a)", "match", "can match the empty string (match mode)"),
    ],
)
def test_python_plans(pattern: str, mode: str, reason: str) -> None:
    assert plan_pattern(re.compile(pattern), mode) == type(plan_pattern(re.compile("x"), mode))(
        "python", None, reason
    )


def test_value_mode_allows_empty_matches_and_trailing_dollar() -> None:
    assert plan_pattern(re.compile("a*"), "value").rust_source == r"(?:[\x{61}])*"
    assert plan_pattern(re.compile("ab$"), "value").rust_source == r"[\x{61}][\x{62}]\n?\z"


def test_emitted_syntax() -> None:
    cases = {
        r"\d": r"[\x{30}-\x{39}]",
        r"(?i)k": r"[\x{4B}\x{6B}]",
        r"[ab]": r"[\x{61}\x{62}]",
        r"[a-c]": r"[\x{61}-\x{63}]",
        r"é": NEVER_MATCHING_CLASS,
        r"[^\x00-\x7f]": NEVER_MATCHING_CLASS,
        r"a+?": r"(?:[\x{61}])+?",
        r"a{2,}": r"(?:[\x{61}]){2,}",
        r"a{2,5}": r"(?:[\x{61}]){2,5}",
        r"a??": r"(?:[\x{61}])??",
        r"(?:a|bc)": r"(?:[\x{61}]|[\x{62}][\x{63}])",
        r"^\Aa\Z": r"\A\A[\x{61}]\z",
        r"\ba": r"(?-u:\b)[\x{61}]",
    }
    for pattern, source in cases.items():
        assert plan_pattern(re.compile(pattern), "value").rust_source == source, pattern


def test_classes_escape_every_character() -> None:
    source = plan_pattern(re.compile(r"[\w\s.\-\]\[\\^$|]+"), "value").rust_source
    assert source is not None
    for body in re.findall(r"\[(.*?)\]", source.replace(r"\x{5D}", "")):
        assert re.fullmatch(r"(?:\\x\{[0-9A-F]{2}\}|-|\^)*", body.replace(r"\x{10FFFF}", "")), body


def test_bytes_patterns_run_in_python() -> None:
    assert plan_pattern(re.compile(b"x"), "value").plan == "python"


def test_pattern_report(make_engine) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(core={"sensitive_value_patterns": [r"\d{4}", r"(?<=x)y"]})
    report = engine.pattern_report()
    assert [entry["pattern"] for entry in report] == [r"\d{4}", r"(?<=x)y"]
    bounded = [entry["bounded"] for entry in report]
    assert bounded == [True, True]  # the regex module is a dev dependency
    if engine.name == "native":
        assert [(e["plan"], e["path"], e["reason"].split("; ")[0]) for e in report] == [
            ("rust", "linear", RUST_REASON),
            ("fancy", "bounded backtracking", FANCY_REASON),
        ]
        assert {e["other_windows"] for e in report} == {"regex-with-timeout"}
    else:
        assert {e["path"] for e in report} == {"regex-with-timeout"}


ascii_text = st.text(alphabet=st.characters(max_codepoint=127), max_size=40)
biased_text = st.text(alphabet=st.sampled_from("abcdekKsSxyz019 \t\n_-.=:$@"), max_size=40)


def _spans(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    return [m.span() for m in pattern.finditer(text) if m.end() > m.start()]


@settings(max_examples=60, deadline=None)
@given(data=st.data())
@pytest.mark.parametrize("pattern", [*TRANSLATABLE, "a*", "ab$", "(?i)x$"])
def test_translation_agrees_with_python_on_ascii(pattern: str, data: st.DataObject) -> None:
    original = re.compile(pattern)
    text = data.draw(st.one_of(ascii_text, biased_text))
    for mode in ("value", "match"):
        plan = plan_pattern(original, mode)
        if plan.plan != "rust":
            continue
        assert plan.rust_source is not None
        translated = rust_to_python(plan.rust_source)
        assert bool(original.search(text)) == bool(translated.search(text))
        if mode == "match" or not pattern.endswith("$"):
            first = original.search(text)
            other = translated.search(text)
            assert (first and first.span()) == (other and other.span())
            assert _spans(original, text) == _spans(translated, text)


_ATOMS = [
    "a",
    "b",
    "k",
    "s",
    ".",
    r"\w",
    r"\d",
    r"\s",
    r"\W",
    "[a-c]",
    "[^ab]",
    "(?i:k)",
    "(?-i:s)",
    r"\b",
]
_QUANTIFIERS = ["", "", "*", "+", "?", "{1,3}", "*?", "+?", "{2}"]


@st.composite
def regexes(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        if depth < 2 and draw(st.booleans()):
            inner = "|".join(draw(st.lists(regexes(depth + 1), min_size=1, max_size=3)))
            atom = f"(?:{inner})"
        else:
            atom = draw(st.sampled_from(_ATOMS))
        quantifier = draw(st.sampled_from(_QUANTIFIERS)) if atom != r"\b" else ""
        parts.append(atom + quantifier)
    return "".join(parts)


@settings(max_examples=300, deadline=None)
@given(
    body=regexes(),
    flags=st.sampled_from(["", "(?i)", "(?s)", "(?a)", "(?is)"]),
    anchor=st.sampled_from(["", "^", r"\A"]),
    text=st.one_of(ascii_text, biased_text),
)
def test_generated_patterns_agree_with_python(
    body: str, flags: str, anchor: str, text: str
) -> None:
    original = re.compile(flags + anchor + body)
    for mode in ("value", "match"):
        plan = plan_pattern(original, mode)
        if plan.plan != "rust":
            assert mode == "match" and "empty" in plan.reason
            continue
        assert plan.rust_source is not None
        translated = rust_to_python(plan.rust_source)
        first, other = original.search(text), translated.search(text)
        assert (first and first.span()) == (other and other.span())
        assert _spans(original, text) == _spans(translated, text)
