"""Hypothesis strategies: attribute trees, envelopes and JSON bodies full of the inputs
that break engines (Unicode case traps, lone surrogates, control characters, secrets
that straddle the cut, big ints, odd floats, odd types, cycles, shared subtrees)."""

from __future__ import annotations

import collections
import datetime
import decimal
import enum
import ipaddress
import json
import pathlib
import types
import uuid
from typing import Any

from hypothesis import strategies as st

from sec_audit.core.engine import BodyFragment

# Characters engines disagree on first: Kelvin sign, dotless i, dotted I, long s,
# Cyrillic/Greek confusables, NUL, CR/LF, DEL, lone surrogates, astral, combining marks.
SPECIAL_CHARS = '\u212aıİſаеοΚ\x00\r\n\t\x7f\x08\x0c"\\\ud800\udbff\udc00\udfff😀\U0010ffffé\u0307ß'
SECRETS = (
    "AKIAABCDEFGHIJKLMNOP",
    "ghp_" + "a" * 36,
    "glpat-" + "b" * 20,
    "xoxb-1234567890-abc",
    "sk_live_" + "c" * 20,
    "AIza" + "d" * 35,
    "eyJhbGciOiJIUzI1.eyJzdWIiOiIxMjM0.abcdefghijklmnopqrst",
    "-----BEGIN RSA PRIVATE KEY-----",
    "Bearer abcdefghijklmnopqrstuvwxyz",
    "basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
    "4111 1111 1111 1111",
    "4111-1111-1111-1111",
    "4111111111111112",
    "378282246310005",
    "6011111111111117",
    "5555555555554444",
    "secret123",
    "password",
    "key",
    "end",
    "xabc",
    "aa",
    "start",
    "ab",
    "x\nx",
)
KEY_WORDS = (
    "password",
    "Pass_Word",
    "user_token",
    "csrftoken",
    "\u212aey",
    "api\u212aey",
    "İd",
    "name",
    "event_type",
    "session.id",
    "request_id",
    "url.full",
    "source.address",
    "_truncated",
    "authorization",
    "ſecret",
    "COOKIE",
    "",
    "1",
)

plain_text = st.text(
    alphabet=st.one_of(
        st.characters(codec=None, exclude_categories=()),
        st.sampled_from(SPECIAL_CHARS),
        st.sampled_from("abcxyzKkSsIi019 -_.@/=+"),
    ),
    max_size=24,
)


@st.composite
def texts(draw: st.DrawFn) -> str:
    """Text with secrets, specials and plain runs mixed; sometimes long."""
    parts = draw(
        st.lists(
            st.one_of(plain_text, st.sampled_from(SECRETS), st.sampled_from(SPECIAL_CHARS)),
            max_size=6,
        )
    )
    text = "".join(parts)
    if draw(st.integers(0, 30)) == 0:
        text = text * draw(st.integers(50, 400))
    return text


keys = st.one_of(st.sampled_from(KEY_WORDS), texts(), st.integers(-3, 3))


class Color(enum.Enum):
    RED = "red"
    LIST = [1, "two"]
    NESTED = {"password": "x"}


class Level(enum.IntEnum):
    LOW = 1


class Weird(str):
    def __str__(self) -> str:
        return "not the raw text"


class BigInt(int):
    def __str__(self) -> str:
        return "nope"


Point = collections.namedtuple("Point", "x y")


class Opaque:
    pass


class ChainA(enum.Enum):
    A = 1


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**60), max_value=10**60),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 5e-324, 1e16, 1e-5, 1e15, 1.7976931348623157e308, 0.1]),
    texts(),
    st.binary(max_size=4),
    st.builds(bytearray, st.binary(max_size=3)),
    st.sampled_from(
        [
            datetime.datetime(2024, 1, 2, 3, 4, 5, 6),
            datetime.date(2020, 2, 29),
            datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc),
            uuid.UUID(int=12345),
            decimal.Decimal("1.50"),
            decimal.Decimal("NaN"),
            pathlib.PurePosixPath("/etc/passwd"),
            ipaddress.ip_address("10.0.0.1"),
            ipaddress.ip_address("::1"),
            Color.RED,
            Color.LIST,
            Color.NESTED,
            Level.LOW,
            Weird("raw text AKIAABCDEFGHIJKLMNOP"),
            BigInt(7),
            {1, 2},
            frozenset(),
            Opaque(),
            memoryview(b"x"),
            datetime.time(1, 2),
            datetime.timedelta(1),
            BodyFragment('{"a": "b, c: d", "e": [1, 2]}'),
        ]
    ),
)


def _containers(leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(leaves, max_size=5),
        st.lists(leaves, max_size=4).map(tuple),
        st.dictionaries(keys, leaves, max_size=5),
        st.dictionaries(keys, leaves, max_size=3).map(collections.OrderedDict),
        st.dictionaries(st.text(max_size=4), leaves, max_size=3).map(types.MappingProxyType),
        st.tuples(leaves, leaves).map(lambda t: Point(*t)),
    )


trees = st.recursive(scalars, _containers, max_leaves=30)


def _all_containers(value: Any, acc: list[Any], seen: set[int]) -> None:
    if id(value) in seen:
        return
    if isinstance(value, (dict, list)):
        seen.add(id(value))
        acc.append(value)
        children = value.values() if isinstance(value, dict) else value
        for child in list(children):
            _all_containers(child, acc, seen)


@st.composite
def linked_trees(draw: st.DrawFn) -> Any:
    """A tree, sometimes with a cycle or a shared subtree spliced in."""
    tree = draw(trees)
    containers: list[Any] = []
    _all_containers(tree, containers, set())
    if containers and draw(st.booleans()):
        for _ in range(draw(st.integers(1, 3))):
            target = draw(st.sampled_from(containers))
            link = draw(st.sampled_from(containers))
            if isinstance(target, dict):
                target[draw(keys)] = link
            else:
                target.append(link)
    return tree


@st.composite
def attributes(draw: st.DrawFn) -> dict[Any, Any]:
    attrs: dict[Any, Any] = draw(st.dictionaries(keys, linked_trees(), max_size=8))
    if draw(st.booleans()):
        attrs[draw(st.sampled_from(("http.request.body", "password", "body")))] = BodyFragment(
            draw(
                st.sampled_from(['{"a": 1, "b": "x, y: z"}', '"[TRUNCATED]"', '{"q\\": ": [1, 2]}'])
            )
        )
    return attrs


@st.composite
def envelopes(draw: st.DrawFn) -> dict[Any, Any]:
    env: dict[Any, Any] = {
        "timestamp": draw(st.integers(0, 2**64)),
        "observed_timestamp": draw(st.integers(0, 2**64)),
        "severity_text": draw(st.sampled_from(["INFO", "WARN", "ERROR"])),
        "severity_number": draw(st.integers(1, 24)),
        "body": draw(st.one_of(texts(), linked_trees())),
        "resource": draw(st.one_of(st.dictionaries(keys, scalars, max_size=3), linked_trees())),
        "instrumentation_scope": {"name": "sec_audit.django", "version": "0.2.0"},
        "attributes": draw(st.one_of(attributes(), attributes(), linked_trees())),
    }
    if draw(st.booleans()):
        env["event_name"] = draw(texts())
    if draw(st.booleans()):
        env["trace_id"] = "0" * 32
        env["span_id"] = "1" * 16
        env["trace_flags"] = 1
    return env


# --- bodies ---------------------------------------------------------------------------

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    texts(),
)
json_trees = st.recursive(
    json_scalars,
    lambda leaves: st.one_of(
        st.lists(leaves, max_size=5),
        st.dictionaries(st.one_of(st.sampled_from(KEY_WORDS), texts()), leaves, max_size=5),
    ),
    max_leaves=40,
)


@st.composite
def json_bodies(draw: st.DrawFn) -> bytes:
    """`json.dumps` of a generated tree (mostly an object), random separators/whitespace."""
    top = draw(
        st.one_of(
            st.dictionaries(st.one_of(st.sampled_from(KEY_WORDS), texts()), json_trees, max_size=8),
            json_trees,
        )
    )
    item_sep = draw(st.sampled_from([",", ", ", " ,\n", ",\t"]))
    key_sep = draw(st.sampled_from([":", ": ", " : ", ":\r\n"]))
    indent = draw(st.sampled_from([None, None, 0, 2, "\t"]))
    text = json.dumps(
        top,
        ensure_ascii=draw(st.booleans()),
        separators=(item_sep, key_sep),
        indent=indent,
    )
    if draw(st.booleans()):
        text = (
            draw(st.sampled_from(["", " ", "\n", "\t\r\n "]))
            + text
            + draw(st.sampled_from(["", " ", "\n"]))
        )
    return text.encode("utf-8", "surrogatepass")


MUTATIONS = (
    "truncate",
    "bad_utf8",
    "bom",
    "duplicate",
    "nan",
    "big_int",
    "deep",
    "escape",
    "control",
    "insert_byte",
    "trailing",
)


@st.composite
def mutated_bodies(draw: st.DrawFn) -> bytes:
    data = draw(json_bodies())
    kind = draw(st.sampled_from(MUTATIONS))
    if kind == "truncate" and data:
        return data[: draw(st.integers(0, len(data) - 1))]
    if kind == "bad_utf8":
        at = draw(st.integers(0, len(data)))
        bad = draw(
            st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80"])
        )
        return data[:at] + bad + data[at:]
    if kind == "bom":
        return b"\xef\xbb\xbf" + data
    if kind == "duplicate":
        k = draw(st.sampled_from(['"a"', '"password"', '"\\u0061"', '"_truncated"']))
        v1, v2 = (
            draw(st.sampled_from(["1", '"x"', "[1, 2]", '{"a": 1}'])),
            draw(st.sampled_from(["2", "null", '{"b": [3]}'])),
        )
        filler = ", ".join(f'"k{i}": {i}' for i in range(draw(st.integers(0, 4))))
        inner = f"{k}: {v1}" + (", " + filler if filler else "") + f", {k}: {v2}"
        return ("{" + inner + "}").encode()
    if kind == "nan":
        token = draw(st.sampled_from(["NaN", "Infinity", "-Infinity", "nan", "-NaN", "infinity"]))
        return f'{{"v": {token}, "w": [{token}]}}'.encode()
    if kind == "big_int":
        digits = draw(st.sampled_from([19, 20, 300, 4299, 4300, 4301, 5000]))
        sign = draw(st.sampled_from(["", "-"]))
        return f'{{"n": {sign}{"9" * digits}, "m": 1e400, "z": -0, "f": 1E-7}}'.encode()
    if kind == "deep":
        n = draw(st.sampled_from([5, 255, 256, 257, 300]))
        opener = draw(st.sampled_from(["[", '{"a": ']))
        closer = "]" if opener == "[" else "}"
        return ('{"d": ' + opener * (n - 1) + "1" + closer * (n - 1) + "}").encode()
    if kind == "escape":
        esc = draw(
            st.sampled_from(
                [
                    "\\ud83d\\ude00",
                    "\\ud800",
                    "\\udc00x",
                    "\\ud800\\u0041",
                    "\\u00e9",
                    "\\u212a",
                    "\\/",
                    "\\x41",
                    "\\u12",
                    "\\uZZZZ",
                    '\\"',
                    "\\b\\f\\n\\r\\t",
                ]
            )
        )
        where = draw(st.sampled_from(["key", "value"]))
        if where == "key":
            return f'{{"{esc}": 1, "password{esc}": 2}}'.encode()
        return f'{{"v": "a{esc}b", "w": ["{esc}"]}}'.encode()
    if kind == "control":
        c = draw(st.sampled_from(["\x00", "\x1f", "\n", "\x7f", "\u2028"]))
        return f'{{"v": "a{c}b"}}'.encode()
    if kind == "insert_byte" and data:
        at = draw(st.integers(0, len(data)))
        return (
            data[:at]
            + draw(st.sampled_from([b",", b"]", b"}", b"{", b'"', b"\\", b" "]))
            + data[at:]
        )
    if kind == "trailing":
        return data + draw(st.sampled_from([b"x", b",", b"{}", b" 1"]))
    return data
