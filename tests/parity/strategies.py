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
    "aws_secret_access_key=",
    "AWS_SECRET_ACCESS_KEY: ",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "postgres://app:",
    "redis://:",
    "https://",
    "pw@db",
    "@",
    ":",
    "123-45-6789",
    "666-45-6789",
    "hooks.slack.com/services/T01234567/B01234567/" + "e" * 24,
    "SK" + "0a" * 16,
    "key-" + "f" * 32,
    "npm_" + "g" * 36,
    "sk-proj-" + "h" * 40,
    "sk-ant-api03-" + "i" * 80,
    "AccountKey=" + "j" * 86 + "==",
    "shpat_" + "0" * 32,
    "hvs." + "k" * 24,
    "EAAA" + "l" * 60,
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
    "pässword",
    "pa\u0308ssword",
    "ｐａｓｓｗｏｒｄ",
    "ſecret",
    "pаssword",
    "ΡΑSSWORD",
    "pass\u200bword",
    "Straße_token",
    "имя",
    "card_pin",
    "pinCode",
    "PINCode",
    "shipping",
    "authorName",
    "X-Auth",
    "cvv2",
    "privateKey",
    "bypass_cache",
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


# Strategies are built once, here: building one inside a draw costs hypothesis more than
# the draw itself (validation, recursive properties), on every call.
_TEXT_PARTS = st.lists(
    st.one_of(plain_text, st.sampled_from(SECRETS), st.sampled_from(SPECIAL_CHARS)),
    max_size=6,
)
_ONE_IN_31 = st.integers(0, 30)
_REPEAT = st.integers(50, 400)


@st.composite
def texts(draw: st.DrawFn) -> str:
    """Text with secrets, specials and plain runs mixed; sometimes long."""
    text = "".join(draw(_TEXT_PARTS))
    if draw(_ONE_IN_31) == 0:
        text = text * draw(_REPEAT)
    return text


keys = st.one_of(st.sampled_from(KEY_WORDS), texts(), st.integers(-3, 3))
text_values = texts()


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
# An attribute value: up to 8 of them per envelope, so each gets a smaller budget (as
# `json_values` below).
small_trees = st.recursive(scalars, _containers, max_leaves=12)


def _all_containers(value: Any, acc: list[Any], seen: set[int]) -> None:
    if id(value) in seen:
        return
    if isinstance(value, (dict, list)):
        seen.add(id(value))
        acc.append(value)
        children = value.values() if isinstance(value, dict) else value
        for child in list(children):
            _all_containers(child, acc, seen)


_BOOL = st.booleans()
_LINKS = st.integers(1, 3)
# An index into a list drawn at run time: `index % len(list)` (a fixed strategy).
_INDEX = st.integers(0, 1 << 16)


@st.composite
def linked_trees(draw: st.DrawFn, source: st.SearchStrategy[Any] = trees) -> Any:
    """A tree, sometimes with a cycle or a shared subtree spliced in."""
    tree = draw(source)
    containers: list[Any] = []
    _all_containers(tree, containers, set())
    if containers and draw(_BOOL):
        for _ in range(draw(_LINKS)):
            target = containers[draw(_INDEX) % len(containers)]
            link = containers[draw(_INDEX) % len(containers)]
            if isinstance(target, dict):
                target[draw(keys)] = link
            else:
                target.append(link)
    return tree


_ATTR_DICTS = st.dictionaries(keys, linked_trees(small_trees), max_size=8)
_FRAGMENT_KEYS = st.sampled_from(("http.request.body", "password", "body"))
_FRAGMENT_JSON = st.sampled_from(
    ['{"a": 1, "b": "x, y: z"}', '"[TRUNCATED]"', '{"q\\": ": [1, 2]}']
)


@st.composite
def attributes(draw: st.DrawFn) -> dict[Any, Any]:
    attrs: dict[Any, Any] = draw(_ATTR_DICTS)
    if draw(_BOOL):
        attrs[draw(_FRAGMENT_KEYS)] = BodyFragment(draw(_FRAGMENT_JSON))
    return attrs


_TIMESTAMPS = st.integers(0, 2**64)
_SEVERITY_TEXT = st.sampled_from(["INFO", "WARN", "ERROR"])
_SEVERITY_NUMBER = st.integers(1, 24)
_ENVELOPE_BODY = st.one_of(text_values, linked_trees())
_RESOURCE = st.one_of(st.dictionaries(keys, scalars, max_size=3), linked_trees())
_ATTRIBUTES = st.one_of(attributes(), attributes(), linked_trees())


@st.composite
def envelopes(draw: st.DrawFn) -> dict[Any, Any]:
    env: dict[Any, Any] = {
        "timestamp": draw(_TIMESTAMPS),
        "observed_timestamp": draw(_TIMESTAMPS),
        "severity_text": draw(_SEVERITY_TEXT),
        "severity_number": draw(_SEVERITY_NUMBER),
        "body": draw(_ENVELOPE_BODY),
        "resource": draw(_RESOURCE),
        "instrumentation_scope": {"name": "sec_audit.django", "version": "0.2.0"},
        "attributes": draw(_ATTRIBUTES),
    }
    if draw(_BOOL):
        env["event_name"] = draw(text_values)
    if draw(_BOOL):
        env["trace_id"] = "0" * 32
        env["span_id"] = "1" * 16
        env["trace_flags"] = 1
    return env


# What `render_event` takes: the envelope's members one by one (`service` for
# `resource`; `trace` None, a 3-tuple, or now and then something it must refuse).
_SERVICE = st.one_of(text_values, scalars, linked_trees())
_TRACE = st.one_of(
    st.none(),
    st.just(("0" * 32, "1" * 16, 1)),
    st.tuples(text_values, scalars, scalars),
    st.sampled_from([("a", "b"), ["a", "b", 1], "abc"]),
)


@st.composite
def event_members(draw: st.DrawFn) -> tuple[Any, ...]:
    return (
        draw(_TIMESTAMPS),
        draw(st.one_of(_TIMESTAMPS, scalars)),
        draw(st.one_of(_SEVERITY_TEXT, scalars)),
        draw(_SEVERITY_NUMBER),
        draw(_ENVELOPE_BODY),
        draw(_SERVICE),
        draw(st.one_of(st.just({"name": "sec_audit.django", "version": "0.2.0"}), linked_trees())),
        draw(_ATTRIBUTES),
        draw(st.one_of(text_values, scalars)),
        draw(_TRACE),
    )


# --- bodies ---------------------------------------------------------------------------

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    texts(),
)
_BODY_KEYS = st.one_of(st.sampled_from(KEY_WORDS), text_values)


def _json_containers(leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(leaves, max_size=5),
        st.dictionaries(_BODY_KEYS, leaves, max_size=5),
    )


json_trees = st.recursive(json_scalars, _json_containers, max_leaves=40)
# A body object's values: up to 8 of them, so each gets a smaller budget (the whole
# body stays within about the leaves of one tree: no giant bodies that cost generation
# time and cover nothing more; depth and width are still reached, and deep nesting has
# its own mutation).
json_values = st.recursive(json_scalars, _json_containers, max_leaves=16)
_BODY_TOP = st.one_of(st.dictionaries(_BODY_KEYS, json_values, max_size=8), json_trees)
_ITEM_SEP = st.sampled_from([",", ", ", " ,\n", ",\t"])
_KEY_SEP = st.sampled_from([":", ": ", " : ", ":\r\n"])
_INDENT = st.sampled_from([None, None, 0, 2, "\t"])
_LEADING = st.sampled_from(["", " ", "\n", "\t\r\n "])
_TRAILING = st.sampled_from(["", " ", "\n"])


@st.composite
def json_bodies(draw: st.DrawFn) -> bytes:
    """`json.dumps` of a generated tree (mostly an object), random separators/whitespace."""
    top = draw(_BODY_TOP)
    item_sep = draw(_ITEM_SEP)
    key_sep = draw(_KEY_SEP)
    indent = draw(_INDENT)
    text = json.dumps(
        top,
        ensure_ascii=draw(_BOOL),
        separators=(item_sep, key_sep),
        indent=indent,
    )
    if draw(_BOOL):
        text = draw(_LEADING) + text + draw(_TRAILING)
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


_MUTATION = st.sampled_from(MUTATIONS)
_BAD_UTF8 = st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80"])
_DUP_KEY = st.sampled_from(['"a"', '"password"', '"\\u0061"', '"_truncated"'])
_DUP_FIRST = st.sampled_from(["1", '"x"', "[1, 2]", '{"a": 1}'])
_DUP_LAST = st.sampled_from(["2", "null", '{"b": [3]}'])
_FILLERS = st.integers(0, 4)
_NAN_TOKEN = st.sampled_from(["NaN", "Infinity", "-Infinity", "nan", "-NaN", "infinity"])
_BIG_DIGITS = st.sampled_from([19, 20, 300, 4299, 4300, 4301, 5000])
_SIGN = st.sampled_from(["", "-"])
_DEPTH = st.sampled_from([5, 255, 256, 257, 300])
_OPENER = st.sampled_from(["[", '{"a": '])
_ESCAPE = st.sampled_from(
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
_WHERE = st.sampled_from(["key", "value"])
_CONTROL = st.sampled_from(["\x00", "\x1f", "\n", "\x7f", "\u2028"])
_INSERTED = st.sampled_from([b",", b"]", b"}", b"{", b'"', b"\\", b" "])
_APPENDED = st.sampled_from([b"x", b",", b"{}", b" 1"])


_JSON_BODIES = json_bodies()
# The mutations that start from a generated body; the others build their own bytes.
_FROM_BODY = ("truncate", "bad_utf8", "bom", "insert_byte", "trailing")


@st.composite
def mutated_bodies(draw: st.DrawFn) -> bytes:
    kind = draw(_MUTATION)
    # Only draw a body the mutation uses (half of them do not).
    data = draw(_JSON_BODIES) if kind in _FROM_BODY else b""
    if kind == "truncate" and data:
        return data[: draw(_INDEX) % len(data)]
    if kind == "bad_utf8":
        at = draw(_INDEX) % (len(data) + 1)
        return data[:at] + draw(_BAD_UTF8) + data[at:]
    if kind == "bom":
        return b"\xef\xbb\xbf" + data
    if kind == "duplicate":
        k = draw(_DUP_KEY)
        v1, v2 = draw(_DUP_FIRST), draw(_DUP_LAST)
        filler = ", ".join(f'"k{i}": {i}' for i in range(draw(_FILLERS)))
        inner = f"{k}: {v1}" + (", " + filler if filler else "") + f", {k}: {v2}"
        return ("{" + inner + "}").encode()
    if kind == "nan":
        token = draw(_NAN_TOKEN)
        return f'{{"v": {token}, "w": [{token}]}}'.encode()
    if kind == "big_int":
        digits = draw(_BIG_DIGITS)
        sign = draw(_SIGN)
        return f'{{"n": {sign}{"9" * digits}, "m": 1e400, "z": -0, "f": 1E-7}}'.encode()
    if kind == "deep":
        n = draw(_DEPTH)
        opener = draw(_OPENER)
        closer = "]" if opener == "[" else "}"
        return ('{"d": ' + opener * (n - 1) + "1" + closer * (n - 1) + "}").encode()
    if kind == "escape":
        esc = draw(_ESCAPE)
        if draw(_WHERE) == "key":
            return f'{{"{esc}": 1, "password{esc}": 2}}'.encode()
        return f'{{"v": "a{esc}b", "w": ["{esc}"]}}'.encode()
    if kind == "control":
        c = draw(_CONTROL)
        return f'{{"v": "a{c}b"}}'.encode()
    if kind == "insert_byte" and data:
        at = draw(_INDEX) % (len(data) + 1)
        return data[:at] + draw(_INSERTED) + data[at:]
    if kind == "trailing":
        return data + draw(_APPENDED)
    return data
