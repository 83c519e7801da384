"""Hostile input never crashes the process, never recurses, stays bounded, and the
native engine still agrees with the reference."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest

from sec_audit.core.engine import BodyFragment

from .engines import config_key, engines


def _nested_list(n: int) -> list[object]:
    root: list[object] = []
    cur = root
    for _ in range(n):
        nxt: list[object] = []
        cur.append(nxt)
        cur = nxt
    cur.append("leaf")
    return root


def _nested_dict(n: int) -> dict[str, object]:
    root: dict[str, object] = {}
    cur = root
    for i in range(n):
        nxt: dict[str, object] = {}
        cur[f"k{i % 7}"] = nxt
        cur = nxt
    return root


@pytest.mark.parametrize("max_depth", [8, 200_000])
@pytest.mark.parametrize("build", [_nested_list, _nested_dict])
def test_100k_deep_nesting(build: object, max_depth: int) -> None:
    native, python = engines(config_key(limits={"max_depth": max_depth}))
    value = build(100_000)  # type: ignore[operator]
    env = {"timestamp": 1, "attributes": {"deep": value}, "resource": value}
    assert native.render(env) == python.render(env)


def test_100_mb_string_is_bounded() -> None:
    native, python = engines(config_key(patterns=(r"secret\d+",)))
    for big in ("a" * 100_000_000, "é" * 100_000_000):
        line = native.render({"attributes": {"s": big}, "body": big})
        assert line == python.render({"attributes": {"s": big}, "body": big})
        assert len(line) < 2 * 6 * 4096 + 200


# The work on a huge string is bounded by the window, not the string: measured as the
# peak memory (VmHWM) a fresh process gains while rendering one, instead of a time.
PEAK_SCRIPT = """
import re, sys
from sec_audit.core.engine import EngineConfig, build_engine
engine = build_engine(
    EngineConfig(value_patterns=(re.compile(r"secret\\d+"),), secret_detectors="recommended"),
    kind=sys.argv[1],
)
def peak():
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) * 1024 for l in fh if l.startswith("VmHWM:"))
worst = 0
for char in ("a", "\u00e9", "\u20ac", "\U0001f600"):
    big = char * 25_000_000  # a whole-string UTF-8 copy would be 25-100 MB
    before = peak()
    engine.render({"attributes": {"s": big}, "body": big})
    engine.project(big)
    worst = max(worst, peak() - before)
    del big
print(worst)
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="VmHWM is read from /proc")
@pytest.mark.parametrize("kind", ["python", "native"])
def test_huge_string_is_not_copied(kind: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PEAK_SCRIPT, kind],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    grown = int(result.stdout.strip())
    assert grown < 32 * 1024 * 1024, f"peak memory grew by {grown // 2**20} MB"


def test_huge_int_raises_value_error_like_the_reference() -> None:
    native, python = engines(config_key())
    value = {"attributes": {"n": 10**5000}}
    with pytest.raises(ValueError):
        python.render(value)
    with pytest.raises(ValueError):
        native.render(value)


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xfe{}",
        b'{"a": "\xc3"}',
        b'{"a": "\xed\xa0\x80"}',
        b'{"a": "\xc0\xaf"}',
        b"\xef\xbb\xbf{}",
        b"{" * 100_000,
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a": ' + b"[" * 256 + b"]" * 256 + b"}",
        b'{"a": "' + b"\\" * 10_001 + b'"}',
        b'{"n": ' + b"1" * 5000 + b"}",
        b'{"a": "\\ud800"}',
        b'{"a": 1, "a": 2}',
    ],
)
def test_hostile_bodies(data: bytes) -> None:
    native, python = engines(config_key())

    def view(r: tuple[str, BodyFragment | None]) -> tuple[str, str | None]:
        return r[0], None if r[1] is None else r[1].json

    assert view(native.capture_body(data)) == view(python.capture_body(data))


def test_capture_body_accepts_bytearray_and_memoryview() -> None:
    native, python = engines(config_key())
    data = b'{"password": "x", "a": [1, 2]}'
    for wrapped in (bytearray(data), memoryview(data)):
        status, frag = native.capture_body(wrapped)
        assert status == "ok" and frag == python.capture_body(data)[1]


def test_panic_becomes_runtime_error() -> None:
    from sec_audit import _native

    with pytest.raises(RuntimeError, match="sec_audit native engine panic"):
        _native._panic_for_tests()


def test_capture_body_releases_the_gil() -> None:
    """Another thread makes progress while bodies are parsed."""
    native, _ = engines(config_key(max_body=1 << 24))
    body = (
        b'{"items": [' + b", ".join(b'{"a": "xxxxxxxxxxxxxxxxxx"}' for _ in range(200_000)) + b"]}"
    )
    ticks = 0
    stop = False

    def ticker() -> None:
        nonlocal ticks
        while not stop:
            ticks += 1
            time.sleep(0)

    t = threading.Thread(target=ticker)
    t.start()
    try:
        for _ in range(5):
            assert native.capture_body(body)[0] == "ok"
    finally:
        stop = True
        t.join()
    assert ticks > 0


def test_python_plan_pattern_on_non_ascii_text() -> None:
    """A back-reference runs through the compiled Python pattern, with the GIL."""
    native, python = engines(config_key(patterns=(r"(a)\1",)))
    env = {"attributes": {"s": "aa" + "é"}}
    assert native.render(env) == python.render(env)
