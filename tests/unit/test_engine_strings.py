"""The string rule: value and match mode, the scanning window, markers never cut."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sec_audit.core.engine.python.strings import merge_spans

Make = Callable[..., Any]
CARD = "4111 1111 1111 1111"


def text(engine: Any, value: str) -> str:
    out = engine.project(value)
    assert out.startswith('"') and out.endswith('"')
    return out[1:-1]


def test_value_mode_replaces_the_whole_value(make_engine: Make) -> None:
    engine = make_engine(core={"sensitive_value_patterns": [r"sec\w+"]})
    assert text(engine, "my secret here") == "[REDACTED]"
    assert text(engine, "nothing") == "nothing"
    assert text(engine, f"pay {CARD}") == "[REDACTED]"  # detectors on by default


def test_detectors_can_be_turned_off(make_engine: Make) -> None:
    assert text(make_engine(core={"secret_detectors": []}), f"pay {CARD}") == f"pay {CARD}"


def test_match_mode_replaces_spans(make_engine: Make) -> None:
    engine = make_engine(
        core={"value_scrub_mode": "match", "sensitive_value_patterns": [r"sec\w+", "ab"]}
    )
    assert text(engine, "a secret and a secretive ab") == "a [REDACTED] and a [REDACTED] [REDACTED]"
    assert text(engine, f"card {CARD} done") == "card [REDACTED] done"
    # Overlapping and touching spans merge into one marker.
    assert text(engine, "secretab!") == "[REDACTED]!"
    assert text(engine, "abab") == "[REDACTED]"


def test_match_mode_skips_empty_matches(make_engine: Make) -> None:
    engine = make_engine(core={"value_scrub_mode": "match", "sensitive_value_patterns": ["x*"]})
    assert text(engine, "axxb") == "a[REDACTED]b"
    assert text(engine, "ab") == "ab"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("aXYbcdef", "a[REDACTED]bc[TRUNCATED]"),  # plain text copied up to position L
        ("abSECRETcdef", "ab[REDACTED][TRUNCATED]"),  # span ends past L: nothing more
        ("XYXYzXY", "[REDACTED]z[TRUNCATED]"),  # second span starts at L
        ("XYzXY", "[REDACTED]z[REDACTED]"),
        ("abcdSECRETxyz", "abcd[REDACTED][TRUNCATED]"),  # span straddles the cut: whole
        ("abcdSECRET", "abcd[REDACTED]"),  # nothing left after the span
        ("abcdeSECRET", "abcde[TRUNCATED]"),  # span starts at L: not shown
        ("SECRET", "[REDACTED]"),
        ("abcde", "abcde"),
        ("abcdef", "abcde[TRUNCATED]"),
    ],
)
def test_match_mode_with_truncation(make_engine: Make, value: str, expected: str) -> None:
    engine = make_engine(
        core={"value_scrub_mode": "match", "sensitive_value_patterns": ["SECRET|XY"]},
        limits={"max_string_length": 5},
    )
    assert text(engine, value) == expected


def test_window_is_max_string_length_plus_1024(make_engine: Make) -> None:
    for mode in ("value", "match"):
        engine = make_engine(
            core={"value_scrub_mode": mode, "sensitive_value_patterns": ["SECRET"]},
            limits={"max_string_length": 10},
        )
        inside = "a" * (10 + 1024 - 6) + "SECRET"
        outside = "a" * (10 + 1024 - 5) + "SECRET"
        assert text(engine, inside) == (
            "[REDACTED]" if mode == "value" else "a" * 10 + "[TRUNCATED]"
        )
        assert text(engine, outside) == "a" * 10 + "[TRUNCATED]"


def test_window_is_counted_in_code_points(make_engine: Make) -> None:
    engine = make_engine(
        core={"sensitive_value_patterns": ["SECRET"]}, limits={"max_string_length": 2}
    )
    assert text(engine, "😀" * 1020 + "SECRET") == "[REDACTED]"
    assert text(engine, "\udc80" * 1021 + "SECRET") == "\\udc80\\udc80[TRUNCATED]"


def test_detector_boundary_is_judged_in_the_window(make_engine: Make) -> None:
    engine = make_engine(limits={"max_string_length": 1})
    key = "AKIAIOSFODNN7EXAMPLE"
    padded = "x" * (1 + 1024 - len(key) - 1) + " " + key
    assert text(engine, padded + "Z") == "[REDACTED]"  # the window ends right after the key
    assert text(engine, padded[1:] + "ZZ") == "x[TRUNCATED]"


def test_patterns_are_not_applied_to_keys_or_numbers(make_engine: Make) -> None:
    engine = make_engine(core={"sensitive_value_patterns": ["42"]})
    assert engine.project({"42": 42, "x": 4.2}, compact=True) == '{"42":42,"x":4.2}'


def test_nan_text_is_not_scanned(make_engine: Make) -> None:
    engine = make_engine(core={"sensitive_value_patterns": ["nan|inf"]})
    assert (
        engine.project([float("nan"), float("-inf"), "inf"], compact=True)
        == '["nan","-inf","[REDACTED]"]'
    )


def test_merge_spans() -> None:
    assert merge_spans([(5, 7), (0, 2), (2, 3), (6, 9), (10, 11)]) == [(0, 3), (5, 9), (10, 11)]
    assert merge_spans([(0, 10), (2, 3)]) == [(0, 10)]
    assert merge_spans([]) == []
