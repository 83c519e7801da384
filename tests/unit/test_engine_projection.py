"""Projection rules: limits, type order, cycles, shared subtrees, key collisions, scale."""

from __future__ import annotations

import collections
import datetime
import enum
import ipaddress
import pathlib
import types
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

Make = Callable[..., Any]
ONE = {
    "max_depth": 1,
    "max_mapping_entries": 1,
    "max_sequence_length": 1,
    "max_string_length": 1,
    "max_attributes": 1,
    "max_bytes": 1,
}


def test_every_limit_at_one(make_engine: Make) -> None:
    engine = make_engine(limits=ONE)
    envelope = {"attributes": {"a": {"b": 1}, "c": 2}}
    # Attribute values sit at depth 1 = max_depth; the second attribute overflows.
    assert engine.render(envelope, compact=True) == (
        '{"attributes":{"a":"[TRUNCATED]","_truncated":"[TRUNCATED]"}}'
    )
    assert engine.render({"attributes": {"password": 1}}, compact=True) == (
        '{"attributes":{"p[TRUNCATED]":"[TRUNCATED]"}}'
    )
    assert engine.project("abc") == '"[TRUNCATED]"'


def test_limits_at_one_except_depth(make_engine: Make) -> None:
    engine = make_engine(limits={**ONE, "max_depth": 8})
    value = {"ab": ["xy", "z"], "c": 1}
    assert engine.project(value, compact=True) == (
        '{"a[TRUNCATED]":["x[TRUNCATED]","[TRUNCATED]"],"_truncated":"[TRUNCATED]"}'
    )


def test_sensitive_marker_meets_only_the_depth_check(make_engine: Make) -> None:
    engine = make_engine(limits={"max_depth": 2, "max_string_length": 5})
    assert engine.project({"token": "x", "a": {"token": 1}}, compact=True) == (
        '{"token":"[TRUNCATED]","a":"[TRUNCATED]"}'
    )
    engine = make_engine(limits={"max_depth": 3, "max_string_length": 5})
    assert engine.project({"token": "x"}, compact=True) == '{"token":"[REDACTED]"}'


def test_mapping_of_exactly_cap_items_is_complete(make_engine: Make) -> None:
    engine = make_engine(limits={"max_mapping_entries": 2, "max_sequence_length": 2})
    assert engine.project({"a": 1, "b": 2}, compact=True) == '{"a":1,"b":2}'
    assert engine.project([1, 2], compact=True) == "[1,2]"


def test_truncated_key_collision_with_overflow(make_engine: Make) -> None:
    # A key that only after truncation reads "_truncated"? The overflow key is literal.
    engine = make_engine(limits={"max_mapping_entries": 1, "max_string_length": 10})
    assert engine.project({"_truncated_x": 1, "b": 2}, compact=True) == (
        '{"_truncated[TRUNCATED]":1,"_truncated":"[TRUNCATED]"}'
    )
    engine = make_engine(limits={"max_mapping_entries": 2, "max_string_length": 10})
    assert engine.project({"a": 0, "_truncated": 1, "b": 2}, compact=True) == (
        '{"a":0,"_truncated":"[TRUNCATED]"}'
    )


def test_output_key_collisions_keep_first_position_last_value(make_engine: Make) -> None:
    engine = make_engine(limits={"max_string_length": 3})
    value = {"abcX": [1, {"n": 1}], "z": 0, "abcY": {"deep": [2]}, 1: "int", "1": "str"}
    assert engine.project(value, compact=True) == (
        '{"abc[TRUNCATED]":{"dee[TRUNCATED]":[2]},"z":0,"1":"str"}'
    )


def test_collision_inside_nested_values_keeps_offsets(make_engine: Make) -> None:
    value = {"m": {1: {"x": 1, 2: "a", "2": "b"}, "1": {"y": [1, 2]}, "k": "v"}, "after": True}
    assert make_engine().project(value, compact=True) == (
        '{"m":{"1":{"y":[1,2]},"k":"v"},"after":true}'
    )


def test_cycles_and_shared_subtrees(make_engine: Make) -> None:
    shared = {"s": [1]}
    assert make_engine().project(
        {"a": shared, "b": shared, "c": [shared, shared]}, compact=True
    ) == ('{"a":{"s":[1]},"b":{"s":[1]},"c":[{"s":[1]},{"s":[1]}]}')
    outer: dict[str, Any] = {}
    inner: list[Any] = [outer]
    outer["l"] = inner
    assert make_engine().project(outer, compact=True) == '{"l":["[REDACTED]"]}'
    attributes: dict[str, Any] = {"a": 1}
    attributes["self"] = attributes
    assert make_engine().render({"attributes": attributes}, compact=True) == (
        '{"attributes":{"a":1,"self":"[REDACTED]"}}'
    )


class Color(enum.Enum):
    RED = "red"
    NESTED = ("a", 1)


class Num(enum.IntEnum):
    ONE = 1


class Text(str, enum.Enum):
    A = "raw"

    def __str__(self) -> str:
        return "not used"


class Weird:
    pass


def _gen() -> Iterator[int]:
    yield 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Color.RED, '"red"'),
        (Color.NESTED, '["a", 1]'),
        (Num.ONE, "1"),
        (Text.A, '"raw"'),
        (datetime.datetime(2024, 1, 2, 3, 4, 5, 6), '"2024-01-02T03:04:05.000006"'),
        (pathlib.PurePosixPath("/a/b"), '"/a/b"'),
        (ipaddress.ip_address("10.0.0.1"), '"10.0.0.1"'),
        (ipaddress.ip_address("::1"), '"::1"'),
        (ipaddress.ip_network("10.0.0.0/8"), '"<unserializable:ipaddress.IPv4Network>"'),
        (datetime.time(1, 2), '"<unserializable:datetime.time>"'),
        (datetime.timedelta(1), '"<unserializable:datetime.timedelta>"'),
        (memoryview(b"x"), '"<unserializable:builtins.memoryview>"'),
        (_gen(), '"<unserializable:builtins.generator>"'),
        (Weird(), f'"<unserializable:{Weird.__module__}.Weird>"'),
        (types.MappingProxyType({"a": 1}), '{"a": 1}'),
        (collections.OrderedDict(b=1, a=2), '{"b": 1, "a": 2}'),
        (collections.deque([1]), '"<unserializable:collections.deque>"'),
    ],
)
def test_type_rules(make_engine: Make, value: Any, expected: str) -> None:
    assert make_engine().project(value) == expected


def test_rich_strings_go_through_the_string_rule(make_engine: Make) -> None:
    engine = make_engine(
        core={"sensitive_value_patterns": ["2024"]}, limits={"max_string_length": 4}
    )
    assert engine.project(
        [datetime.date(2024, 1, 2), pathlib.PurePosixPath("/abcdef")], compact=True
    ) == ('["[REDACTED]","/abc[TRUNCATED]"]')


def test_str_subclass_uses_raw_text_for_values_and_keys(make_engine: Make) -> None:
    class S(str):
        def __str__(self) -> str:
            return "other"

    assert make_engine().project({S("key"): S("value")}, compact=True) == '{"key":"value"}'


def test_non_str_keys_are_stringified(make_engine: Make) -> None:
    value = {None: 1, True: 2, 1.5: 3, (1, 2): 4, Color.RED: 5}
    assert make_engine().project(value, compact=True) == (
        '{"None":1,"True":2,"1.5":3,"(1, 2)":4,"Color.RED":5}'
    )


def test_sensitive_check_uses_full_key_text(make_engine: Make) -> None:
    engine = make_engine(limits={"max_string_length": 3})
    assert engine.project({"xx_password": 1}, compact=True) == '{"xx_[TRUNCATED]":"[REDACTED]"}'


def test_custom_mapping_is_iterated_lazily(make_engine: Make) -> None:
    class Endless(Mapping[str, int]):
        def __getitem__(self, key: str) -> int:
            return 0

        def __iter__(self) -> Iterator[str]:
            n = 0
            while True:
                yield f"k{n}"
                n += 1

        def __len__(self) -> int:
            raise AssertionError("len() must not be needed")

    engine = make_engine(limits={"max_mapping_entries": 2})
    assert engine.project(Endless(), compact=True) == '{"k0":0,"k1":0,"_truncated":"[TRUNCATED]"}'


def test_deep_nesting_is_bounded(make_engine: Make) -> None:
    root: dict[str, Any] = {}
    node = root
    for _ in range(100_000):
        node["k"] = {}
        node = node["k"]
    deep_list: list[Any] = []
    cur = deep_list
    for _ in range(100_000):
        cur.append([])
        cur = cur[0]
    engine = make_engine()
    # project() starts at depth 1: 7 levels open (depths 1..7), the 8th is the marker.
    assert engine.project(root, compact=True) == '{"k":' * 6 + '{"k":"[TRUNCATED]"' + "}" * 7
    assert engine.project(deep_list, compact=True) == "[" * 7 + '"[TRUNCATED]"' + "]" * 7


def test_deep_nesting_with_a_huge_depth_limit(make_engine: Make) -> None:
    deep: list[Any] = []
    cur = deep
    for _ in range(50_000):
        cur.append([])
        cur = cur[0]
    engine = make_engine(limits={"max_depth": 1_000_000})
    assert engine.project(deep, compact=True) == "[" * 50_001 + "]" * 50_001


def test_a_million_items(make_engine: Make) -> None:
    engine = make_engine()
    big_list = list(range(1_000_000))
    big_dict = dict.fromkeys(range(1_000_000), 0)
    assert engine.project(big_list, compact=True) == (
        "[" + ",".join(map(str, range(100))) + ',"[TRUNCATED]"]'
    )
    text = engine.project(big_dict, compact=True)
    assert text.endswith('"99":0,"_truncated":"[TRUNCATED]"}')
    assert text.count(":") == 101
    attributes = {f"a{i}": i for i in range(1_000_000)}
    line = engine.render({"attributes": attributes}, compact=True)
    assert line.endswith('"a127":127,"_truncated":"[TRUNCATED]"}}')


def test_huge_string_only_touches_the_window(make_engine: Make) -> None:
    engine = make_engine(core={"sensitive_value_patterns": ["NEEDLE"]})
    huge = "a" * 100_000_000
    assert engine.project(huge) == '"' + "a" * 4096 + '[TRUNCATED]"'
    assert engine.project("a" * 5000 + "NEEDLE" + huge) == '"[REDACTED]"'
    assert engine.project("a" * 5200 + "NEEDLE") == '"' + "a" * 4096 + '[TRUNCATED]"'
