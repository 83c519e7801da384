"""Output format: byte-identical to CPython json.dumps(ensure_ascii=True) on plain data."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

Make = Callable[..., Any]

# Nothing scrubbed or bounded: the engine must then be exactly json.dumps.
OPEN = {"sensitive_keys": [], "secret_detectors": [], "sensitive_key_sets": ()}
WIDE = {
    "max_depth": 1000,
    "max_mapping_entries": 10_000,
    "max_sequence_length": 10_000,
    "max_string_length": 1_000_000,
    "max_attributes": 10_000,
}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"\\/\b\f\n\r\t', '"\\"\\\\/\\b\\f\\n\\r\\t"'),
        ("\x00\x1f\x7f\x80", '"\\u0000\\u001f\\u007f\\u0080"'),
        ("é€\uffff", '"\\u00e9\\u20ac\\uffff"'),
        ("😀", '"\\ud83d\\ude00"'),
        ("\udc80\ud800", '"\\udc80\\ud800"'),
        (1e16, "1e+16"),
        (1e-05, "1e-05"),
        (-0.0, "-0.0"),
        (0.1, "0.1"),
        (1.0, "1.0"),
        (123456789.125, "123456789.125"),
        (2**200, str(2**200)),
        (-(2**64), "-18446744073709551616"),
        (True, "true"),
        (False, "false"),
        (None, "null"),
        ([], "[]"),
        ({}, "{}"),
        ((), "[]"),
    ],
)
def test_scalar_text(make_engine: Make, value: Any, expected: str) -> None:
    assert make_engine(core=OPEN).project(value) == expected
    assert expected == json.dumps(value)


def test_separators(make_engine: Make) -> None:
    engine = make_engine(core=OPEN)
    value = {"a": [1, {"b": None}], "c": "x, y: z"}
    assert engine.project(value) == json.dumps(value)
    assert engine.project(value, compact=True) == json.dumps(value, separators=(",", ":"))


def test_int_beyond_the_digit_limit_raises(make_engine: Make) -> None:
    if not hasattr(sys, "get_int_max_str_digits"):
        pytest.skip("no int digit limit on this Python")
    huge = 10 ** (sys.get_int_max_str_digits() + 1)
    with pytest.raises(ValueError):
        make_engine().render({"attributes": {"n": huge}})


def test_int_and_float_subclasses_use_the_base_text(make_engine: Make) -> None:
    class Loud(int):
        def __str__(self) -> str:
            return "loud"

        __repr__ = __str__

    class F(float):
        def __repr__(self) -> str:
            return "f"

    assert make_engine().project([Loud(5), F(0.5)]) == "[5, 0.5]"


def test_output_is_pure_ascii(make_engine: Make) -> None:
    line = make_engine().render({"attributes": {"ключ": "значение 😀", "k": "\udcff"}})
    assert line.isascii()


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**100), max_value=2**100)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(exclude_categories=()))
)
json_trees = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(
            st.text(st.characters(exclude_categories=()), max_size=8), inner, max_size=5
        )
    ),
    max_leaves=30,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tree=json_trees, compact=st.booleans())
def test_plain_trees_equal_json_dumps(make_engine: Make, tree: Any, compact: bool) -> None:
    engine = make_engine(core=OPEN, limits=WIDE)
    separators = (",", ":") if compact else (", ", ": ")
    expected = json.dumps({"attributes": {"v": tree}}, separators=separators)
    assert engine.render({"attributes": {"v": tree}}, compact=compact) == expected
