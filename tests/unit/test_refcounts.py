"""The engines keep no reference and leak no memory (issue 9.4).

The native engine borrows Python objects while it walks them; a missing `Py_DecRef`
leaks the object, a missing `Py_IncRef` frees it under the caller. Both show up here:
- every object reachable from the inputs has the same `sys.getrefcount` after many
  renders, projections and body captures as before (after one warm-up call, so a cache
  the engine fills once is not counted), also when the call raises;
- memory stays flat across many calls: Python allocations (tracemalloc) and the whole
  process (RSS: Rust allocations are not traced). The inputs carry large strings and
  bodies, so a leak of one input or output per call exceeds the generous thresholds by
  far, while allocator noise stays well below them.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import gc
import ipaddress
import json
import os
import pathlib
import sys
import tracemalloc
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from types import MappingProxyType
from typing import Any

import pytest

from sec_audit.core.config import SecAuditSettings
from sec_audit.core.engine import BodyFragment, EngineConfig, build_engine, native_available

SETTINGS = SecAuditSettings.from_value(
    {
        "core": {"sensitive_value_patterns": [r"secret\d+", r"(?i)k\w+"], "max_body_bytes": 65536},
        "logging": {"projection_limits": {"max_depth": 6, "max_string_length": 512}},
    }
)


class Color(enum.Enum):
    RED = "red"
    NESTED = {"password": "x", "list": [1, 2]}


class Weird(str):
    def __str__(self) -> str:
        return "not the raw text"


class Opaque:
    pass


class BadKey:
    """A key whose text cannot be made: the walk must let go of what it holds."""

    def __str__(self) -> str:
        raise RuntimeError("no text")


def _inputs() -> list[Any]:
    cycle: dict[str, Any] = {"name": "loop"}
    cycle["self"] = cycle
    shared = ["shared", {"token": "t0k"}]
    big = "x" * 20_000  # longer than max_string_length: cut, and scanned in a window
    deep: list[Any] = []
    for _ in range(50):  # deeper than max_depth
        deep = [deep]
    attrs: dict[Any, Any] = {
        "event_type": "http.response.client_error",
        "session.id": "s-1",
        "password": "hunter2",
        "notes": "rotate AKIAIOSFODNN7EXAMPLE soon secret12",
        "big": big,
        "n": 2**80,
        "f": 0.1,
        "nan": float("nan"),
        "flags": [True, False, None],
        "raw": b"\x00\xff",
        "ba": bytearray(b"ab"),
        "when": datetime.datetime(2024, 1, 2, 3, 4, 5),
        "id": uuid.UUID(int=7),
        "amount": decimal.Decimal("1.50"),
        "path": pathlib.PurePosixPath("/etc/passwd"),
        "ip": ipaddress.ip_address("10.0.0.1"),
        "color": Color.RED,
        "nested_enum": Color.NESTED,
        "set": {1, 2},
        "obj": Opaque(),
        "weird": Weird("raw AKIAIOSFODNN7EXAMPLE"),
        "tuple": (1, "two", [3]),
        "wide": list(range(500)),
        "deep": deep,
        "cycle": cycle,
        "shared_a": shared,
        "shared_b": shared,
        7: "int key",
        "od": OrderedDict(a=1, kelvin="\u212aey"),
        "proxy": MappingProxyType({"csrf": "c", "x": "y"}),
        "http.request.body": BodyFragment('{"a": "[REDACTED]", "b": [1, 2]}'),
    }
    envelope = {
        "timestamp": 1_700_000_000_000_000_000,
        "severity_text": "WARN",
        "body": "http.response.client_error",
        "resource": {"service.name": "svc", "tags": ["a", {"b": cycle}]},
        "attributes": attrs,
    }
    raising = [
        {"attributes": {"n": 10**5000}},  # a huge int: ValueError, like json.dumps
        {"attributes": {"m": {BadKey(): "v"}}},
    ]
    memo: dict[int, Any] = {}
    return [_fresh(value, memo) for value in (envelope, attrs, *raising)]


def _fresh(obj: Any, memo: dict[int, Any]) -> Any:
    """A copy whose strings are new objects, not the interned literals of this module
    (their counts move with the rest of the interpreter); cycles and sharing kept."""
    if id(obj) in memo:
        return memo[id(obj)]
    kind = type(obj)
    if kind is str:
        return "".join(list(obj))
    if kind in (dict, OrderedDict):
        new = kind()
        memo[id(obj)] = new
        for key, value in obj.items():
            new[_fresh(key, memo)] = _fresh(value, memo)
        return new
    if kind is list:
        new_list: list[Any] = []
        memo[id(obj)] = new_list
        new_list.extend(_fresh(item, memo) for item in obj)
        return new_list
    if kind is tuple:
        return tuple(_fresh(item, memo) for item in obj)
    if kind is MappingProxyType:
        return MappingProxyType(_fresh(dict(obj), memo))
    return obj


def _bodies() -> list[bytes]:
    doc = {
        "name": "acme",
        "password": "hunter2",
        "items": [{"sku": i, "note": "secret1" if i % 7 == 0 else "ok"} for i in range(300)],
        "text": "y" * 16_000,
    }
    return [
        json.dumps(doc).encode(),
        b'{"a": 1, "a": {"b": [1, 2]}, "password": "x"}',
        b'{"s": "\\ud800", "t": "\\ud83d\\ude00"}',
        b'{"n": ' + b"9" * 4000 + b"}",
        b'{"v": NaN, "w": [Infinity]}',
        b'{"broken": ',
        b"[1, 2]",
        b"\xff\xfe",
        b'{"d": ' + b"[" * 300 + b"]" * 300 + b"}",
    ]


def _counted(obj: Any) -> bool:
    """Objects of the test's own: not the interpreter's shared singletons and caches
    (small ints, one-character strings), nor enum members (owned by their class)."""
    if obj is None or type(obj) is bool or isinstance(obj, enum.Enum):
        return False
    if type(obj) is int and -5 <= obj <= 256:
        return False
    return not (type(obj) is str and len(obj) < 2)


def _reachable(roots: list[Any]) -> list[Any]:
    """Every object the walk can touch: containers, keys, values, enum values."""
    seen: set[int] = set()
    found: list[Any] = []
    stack = list(roots)
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if _counted(obj):
            found.append(obj)
        if isinstance(obj, (dict, MappingProxyType)):
            for key, value in obj.items():
                stack.extend((key, value))
        elif isinstance(obj, (list, tuple, set, frozenset)):
            stack.extend(obj)
        elif isinstance(obj, enum.Enum):
            stack.append(obj.value)
    return found


def _calls(engine: Any, inputs: list[Any], bodies: list[bytes]) -> Iterator[Callable[[], Any]]:
    for value in inputs:
        if "attributes" in value:
            yield lambda v=value: engine.render(v)
            yield lambda v=value: engine.render(v, True)
            yield lambda v=value: engine.render_event(
                *(v.get("timestamp", 1), 2, "INFO", 9, v.get("body"), v.get("resource", "svc")),
                *(_SCOPE, v["attributes"], "event", _TRACE),
            )
        yield lambda v=value: engine.project(v)
    for data in bodies:
        yield lambda d=data: engine.capture_body(d)


_SCOPE = {"name": "sec_audit.tests", "version": "0"}
_TRACE = ("0" * 32, "1" * 16, 1)


def _call_all(calls: list[Callable[[], Any]]) -> int:
    raised = 0
    for call in calls:
        try:
            result = call()
        except (ValueError, RuntimeError, TypeError):
            raised += 1
            continue
        # Nothing else holds a new result: only `result` and the getrefcount argument.
        if isinstance(result, str):
            assert sys.getrefcount(result) == 2
        elif result[1] is not None:  # (status, fragment); a fragment-less pair may be shared
            fragment = result[1]
            del result
            assert sys.getrefcount(fragment) == 2
    return raised


def _engine(kind: str) -> Any:
    cfg = EngineConfig.from_settings(SETTINGS.core, SETTINGS.logging.projection_limits)
    return build_engine(cfg, kind=kind)


@pytest.fixture
def native_engine() -> Any:
    if not native_available():
        if os.environ.get("SEC_AUDIT_ENGINE") == "native":
            pytest.fail("SEC_AUDIT_ENGINE=native but sec_audit._native cannot be imported")
        pytest.skip("native engine not built in this environment")
    return _engine("native")


def _shown(obj: Any) -> str:
    try:
        return repr(obj)[:60]
    except ValueError:  # an int too long for str()
        return f"<{type(obj).__name__} at {id(obj):#x}>"


def _changed_counts(engine: Any) -> list[tuple[str, str, int, int]]:
    inputs, bodies = _inputs(), _bodies()
    calls = list(_calls(engine, inputs, bodies))
    assert _call_all(calls) >= 2  # the raising inputs did raise (the error path runs)
    objects = _reachable([*inputs, *bodies])
    before = [sys.getrefcount(obj) for obj in objects]
    for _ in range(50):
        _call_all(calls)
    after = [sys.getrefcount(obj) for obj in objects]
    return [
        (type(obj).__name__, _shown(obj), b, a)
        for obj, b, a in zip(objects, before, after, strict=True)
        if a != b
    ]


def test_reference_counts_of_inputs_unchanged(engine_kind: str) -> None:
    changed = _changed_counts(_engine(engine_kind))
    assert not changed, changed


class _Keeps:
    """An engine that keeps what it is given, as a missing `Py_DecRef` would; and an
    output per call, as a leaked buffer would."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.kept: list[Any] = []

    def render(self, value: Any, compact: bool = False) -> str:
        self.kept.append(value["attributes"].get("m", value["attributes"]))
        line: str = self.engine.render(value, compact)
        self.kept.append(line * 2)
        return line

    def render_event(self, *members: Any) -> str:
        return str(self.engine.render_event(*members))

    def project(self, value: Any, compact: bool = False) -> str:
        return str(self.engine.project(value, compact))

    def capture_body(self, data: bytes) -> Any:
        return self.engine.capture_body(data)


def test_the_checks_see_a_kept_reference_and_a_leak() -> None:
    # The two checks above against an engine that does leak: both must notice.
    leaky = _Keeps(_engine("python"))
    assert _changed_counts(leaky)
    assert _memory_growth(leaky, rounds=40)[0] >= TRACED_LIMIT


def _rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


TRACED_LIMIT = 256 * 1024
RSS_LIMIT = 16 * 1024 * 1024


def _memory_growth(engine: Any, rounds: int) -> tuple[int, int]:
    """(traced, RSS) growth in bytes over `rounds` rounds of every call, after warm-up."""
    calls = list(_calls(engine, _inputs(), _bodies()))
    for _ in range(100):  # warm-up: caches, allocator arenas, lazy imports
        _call_all(calls)
    gc.collect()
    rss_before = _rss_bytes()
    tracemalloc.start()
    try:
        for _ in range(20):
            _call_all(calls)
        gc.collect()
        traced_before, _ = tracemalloc.get_traced_memory()
        for _ in range(rounds):
            _call_all(calls)
        gc.collect()
        traced_after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return traced_after - traced_before, _rss_bytes() - rss_before


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="RSS is read from /proc")
def test_memory_flat_over_many_calls(native_engine: Any) -> None:
    # About 20 KB of input string and 20 KB of body per round: a leak of one input or
    # output per call is > 15 MB over 400 rounds, far above both limits.
    traced, rss = _memory_growth(native_engine, rounds=400)
    assert traced < TRACED_LIMIT, traced
    assert rss < RSS_LIMIT, rss
