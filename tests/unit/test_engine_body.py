"""capture_body: every status, the JSON quirks, and the fragment's embedding."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from sec_audit.core.engine import BodyFragment
from sec_audit.core.engine.python.body import MAX_BODY_NESTING, too_deep

Make = Callable[..., Any]


def ok(engine: Any, data: bytes) -> str:
    status, fragment = engine.capture_body(data)
    assert status == "ok", status
    assert isinstance(fragment, BodyFragment)
    return fragment.json


def test_too_large_is_checked_first(make_engine: Make) -> None:
    engine = make_engine(core={"max_body_bytes": 10})
    assert engine.capture_body(b'{"a": "12"}') == ("too_large", None)  # 11 bytes
    assert ok(engine, b'{"a": "1"}') == '{"a": "1"}'  # exactly 10
    assert engine.capture_body(b"[" * 11) == ("too_large", None)


@pytest.mark.parametrize("data", [b"", b"{}", b" { } ", b"\n{}\n"])
def test_empty(make_engine: Make, data: bytes) -> None:
    assert make_engine().capture_body(data) == ("empty", None)


def test_too_deep_counts_brackets_outside_strings(make_engine: Make) -> None:
    engine = make_engine(core={"max_body_bytes": 100_000})
    deepest = b'{"a":' * MAX_BODY_NESTING + b"1" + b"}" * MAX_BODY_NESTING
    too = b'{"a":' * (MAX_BODY_NESTING + 1) + b"1" + b"}" * (MAX_BODY_NESTING + 1)
    assert ok(engine, deepest).startswith('{"a": {"a": ')
    assert engine.capture_body(too) == ("too_deep", None)
    arrays = b"[" * (MAX_BODY_NESTING + 1) + b"]" * (MAX_BODY_NESTING + 1)
    assert engine.capture_body(arrays) == ("too_deep", None)
    # Brackets inside strings, escaped quotes included, do not count.
    inside = b'{"a": "\\"' + b"[" * 300 + b'"}'
    assert ok(engine, inside) == '{"a": "\\"' + "[" * 300 + '"}'
    # Unbalanced input: the counter is plain; too_deep wins before parsing.
    assert engine.capture_body(b"]" * 5 + b"[" * 300) == ("too_deep", None)
    assert engine.capture_body(b"]" * 50 + b"[" * 300) == ("invalid_json", None)


def test_pre_scan_rules() -> None:
    assert not too_deep(b"[" * 256)
    assert too_deep(b"[" * 257)
    assert not too_deep(b'"' + b"[" * 300)  # unterminated string runs to the end
    assert not too_deep(b'"\\\\"' + b"[]" * 300)  # escaped backslash closes the string
    assert too_deep(b'"\\\\"' + b"[" * 257)
    assert not too_deep(b"]" * 10 + b"[" * 266)  # never clamped: -10 + 266 = 256


@pytest.mark.parametrize(
    "data",
    [
        b'{"a": "\xff"}',  # not UTF-8
        b'{"a": "\xed\xa0\x80"}',  # an encoded surrogate is not strict UTF-8
        b'\xef\xbb\xbf{"a": 1}',  # UTF-8 BOM
        '{"a": 1}'.encode("utf-16"),
        '{"a": 1}'.encode("utf-16-le"),
        b'{"a": 1} x',  # trailing garbage
        b'{"a": 1}{}',
        b'{"a": "x\x01y"}',  # raw control character in a string
        b'{"a": "x\ny"}',
        b'{"a": 1,}',
        b"{'a': 1}",
        b'{"a": nan}',
        b'{"a": 01}',
        b'{"a": ' + b"1" * 5000 + b"}",  # beyond the int-digits limit
    ],
)
def test_invalid_json(make_engine: Make, data: bytes) -> None:
    engine = make_engine(core={"max_body_bytes": 100_000})
    assert engine.capture_body(data) == ("invalid_json", None)


@pytest.mark.parametrize("data", [b"[1]", b'"s"', b"1", b"null", b"true", b"1.5", b"[]"])
def test_unsupported_shape(make_engine: Make, data: bytes) -> None:
    assert make_engine().capture_body(data) == ("unsupported_shape", None)


def test_allowlist_narrows_in_body_order(make_engine: Make) -> None:
    engine = make_engine(core={"body_field_allowlist": ["c", "a", "A"]})
    assert ok(engine, b'{"a": 1, "b": 2, "c": 3}') == '{"a": 1, "c": 3}'
    assert engine.capture_body(b'{"b": 2}') == ("empty", None)
    # Allowlisting a sensitive field does not un-redact it.
    engine = make_engine(core={"body_field_allowlist": ["password"]})
    assert ok(engine, b'{"password": "x"}') == '{"password": "[REDACTED]"}'


def test_duplicate_keys_first_position_last_value(make_engine: Make) -> None:
    assert ok(make_engine(), b'{"a": 1, "b": 2, "a": 3}') == '{"a": 3, "b": 2}'
    assert ok(make_engine(), b'{"a": {"x": 1}, "a": [1]}') == '{"a": [1]}'


def test_non_finite_numbers(make_engine: Make) -> None:
    data = b'{"x": NaN, "y": Infinity, "z": -Infinity, "w": 1e999, "v": -1e999}'
    assert (
        ok(make_engine(), data) == '{"x": "nan", "y": "inf", "z": "-inf", "w": "inf", "v": "-inf"}'
    )


def test_numbers_exact(make_engine: Make) -> None:
    data = b'{"big": 123456789012345678901234567890, "neg": -18446744073709551617, "f": 1.0, "e": 1E400000000000000000000, "g": 1e16, "h": 0.00001, "z": -0.0}'
    assert ok(make_engine(), data) == (
        '{"big": 123456789012345678901234567890, "neg": -18446744073709551617, '
        '"f": 1.0, "e": "inf", "g": 1e+16, "h": 1e-05, "z": -0.0}'
    )


def test_decimals_are_written_as_float_repr(make_engine: Make) -> None:
    # Plain decimals take a shortcut in the native engine; the text is float.__repr__'s.
    tokens = [
        "12.5",
        "12.50",
        "-0.0",
        "0.000",
        "100.0",
        "0.0001",
        "0.00010",
        "0.00001",
        "-0.5",
        "123456789012345.0",
        "1234567890123456.0",
        "0.123456789012345",
        "0.1234567890123456",
        "9007199254740993.0",
        "0.30000000000000004",
        "1.10",
        "99999999999999.99",
        "5e-324",
        "1.5E+3",
        "-7.000000000000001",
    ]
    data = "{" + ", ".join(f'"k{i}": {t}' for i, t in enumerate(tokens)) + "}"
    want = "{" + ", ".join(f'"k{i}": {float(t)!r}' for i, t in enumerate(tokens)) + "}"
    assert ok(make_engine(), data.encode()) == want


def test_wide_objects_find_repeated_keys_anywhere(make_engine: Make) -> None:
    engine = make_engine(core={"max_body_bytes": 1 << 20}, limits={"max_mapping_entries": 500})
    keys = [f"field{i}" for i in range(300)]
    body = {k: i for i, k in enumerate(keys)}
    assert ok(engine, json.dumps(body).encode()) == json.dumps(body)
    repeated = json.dumps(body)[:-1] + ', "field7": "last"}'
    body["field7"] = "last"
    assert ok(engine, repeated.encode()) == json.dumps(body)


def test_late_errors_still_report_too_deep_first(make_engine: Make) -> None:
    engine = make_engine(core={"max_body_bytes": 100_000})
    deep = b"[" * (MAX_BODY_NESTING + 1) + b"]" * (MAX_BODY_NESTING + 1)
    assert engine.capture_body(b'{"a": "\xff", "b": ' + deep + b"}") == ("too_deep", None)
    assert engine.capture_body(b'{"a": \xff, "b": ' + deep + b"}") == ("too_deep", None)
    assert engine.capture_body(b'{"a": 1,, "b": ' + deep + b"}") == ("too_deep", None)
    assert engine.capture_body(b'\xef\xbb\xbf{"b": ' + deep + b"}") == ("too_deep", None)
    # Not UTF-8 inside a part that is skipped (past the cap, or a sensitive value).
    engine = make_engine(limits={"max_mapping_entries": 1})
    assert engine.capture_body(b'{"a": 1, "b": "\xc3("}') == ("invalid_json", None)
    assert make_engine().capture_body(b'{"password": "\xc3("}') == ("invalid_json", None)


def test_lone_surrogates_and_astral_characters(make_engine: Make) -> None:
    data = '{"s": "\\ud800", "t": "\\udc80x", "pair": "\\ud83d\\ude00", "raw": "😀é\u007f"}'
    assert ok(make_engine(), data.encode()) == (
        '{"s": "\\ud800", "t": "\\udc80x", "pair": "\\ud83d\\ude00", "raw": "\\ud83d\\ude00\\u00e9\\u007f"}'
    )


def test_body_is_scrubbed_and_bounded(make_engine: Make) -> None:
    engine = make_engine(
        core={"sensitive_value_patterns": [r"\bSSN-\d+"]},
        limits={
            "max_depth": 3,
            "max_sequence_length": 2,
            "max_mapping_entries": 2,
            "max_string_length": 4,
        },
    )
    data = json.dumps(
        {
            "user": {"password": "x", "note": "SSN-12", "more": 1},
            "list": [1, 2, 3],
            "s": "abcdefgh",
        }
    ).encode()
    # Body object at depth 1, its values at 2, theirs at 3 (= max_depth).
    assert ok(engine, data) == (
        '{"user": {"pass[TRUNCATED]": "[TRUNCATED]", "note": "[TRUNCATED]", "_truncated": "[TRUNCATED]"}, '
        '"list": ["[TRUNCATED]", "[TRUNCATED]", "[TRUNCATED]"], "_truncated": "[TRUNCATED]"}'
    )
    engine = make_engine(core={"sensitive_value_patterns": [r"\bSSN-\d+"]})
    assert ok(engine, data) == (
        '{"user": {"password": "[REDACTED]", "note": "[REDACTED]", "more": 1}, '
        '"list": [1, 2, 3], "s": "abcdefgh"}'
    )


def test_body_detectors_and_match_mode(make_engine: Make) -> None:
    data = b'{"msg": "paid with 4111 1111 1111 1111 today", "id": 7}'
    assert ok(make_engine(), data) == '{"msg": "[REDACTED]", "id": 7}'
    match = make_engine(core={"value_scrub_mode": "match"})
    assert ok(match, data) == '{"msg": "paid with [REDACTED] today", "id": 7}'


@pytest.mark.parametrize("limit", ["max_depth"])
def test_depth_one_truncates_the_whole_body(make_engine: Make, limit: str) -> None:
    assert ok(make_engine(limits={limit: 1}), b'{"a": 1}') == '"[TRUNCATED]"'


def test_bytes_like_input(make_engine: Make) -> None:
    engine = make_engine()
    assert ok(engine, bytearray(b'{"a": 1}')) == '{"a": 1}'
    assert ok(engine, memoryview(b'{"a": 1}')) == '{"a": 1}'


def test_fragment_is_embedded_verbatim_and_compacted(make_engine: Make) -> None:
    engine = make_engine()
    data = b'{"text": "a, b: c \\" , d", "n": [1, {"k": "v"}]}'
    fragment = engine.capture_body(data)[1]
    assert fragment is not None
    envelope = {"attributes": {"event_type": "x", "request.body": fragment, "after": 1}}
    assert engine.render(envelope) == (
        '{"attributes": {"event_type": "x", "request.body": '
        '{"text": "a, b: c \\" , d", "n": [1, {"k": "v"}]}, "after": 1}}'
    )
    assert engine.render(envelope, compact=True) == (
        '{"attributes":{"event_type":"x","request.body":'
        '{"text":"a, b: c \\" , d","n":[1,{"k":"v"}]},"after":1}}'
    )
    # A sensitive attribute key still wins over the fragment.
    custom = make_engine(core={"sensitive_keys": ["body"]})
    assert custom.render({"attributes": {"request.body": fragment}}) == (
        '{"attributes": {"request.body": "[REDACTED]"}}'
    )


def test_fragment_is_immutable_value_object() -> None:
    fragment = BodyFragment('{"a": 1}')
    assert fragment.json == '{"a": 1}'
    assert fragment == BodyFragment('{"a": 1}')
    with pytest.raises(AttributeError):
        fragment.json = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        BodyFragment(b"{}")  # type: ignore[arg-type]
