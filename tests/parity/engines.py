"""Engine pairs (native, python reference) for the differential suite, built once per
configuration, and the comparison helpers every parity test uses."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

import pytest

from sec_audit.core.config import ProjectionLimits, key_set_words
from sec_audit.core.engine import BodyFragment, EngineConfig, build_engine, native_available

from . import properties

if not native_available():  # pragma: no cover - the pure-Python environment
    pytest.skip("the native engine is not built", allow_module_level=True)

DEFAULT_KEYS = (
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "apikey",
    "authorization",
    "cookie",
    "sessionid",
    "csrf",
)

# Every construct a user pattern may use: plain, IGNORECASE with the Unicode
# case-folding traps (Kelvin sign, long s, dotless/dotted i), word boundaries, anchors,
# trailing `$`, look-around, back-references, empty matches, MULTILINE, ASCII flag...
PATTERN_POOL: tuple[str, ...] = (
    r"secret\d+",
    r"(?i)passw(or)?d",
    r"\bkey\b",
    r"end$",
    r"(?<=x)abc",
    r"(?<!q)zz",
    r"(a)\1",
    r"(?i)k",
    r"(?i)s[a-c]",
    r"(?i)\u0131|I",
    r"[^\W\d]{3}",
    r"\B\w\B",
    r"^start",
    r"\Aab\Z",
    r"a*",
    r"x?",
    r"\d{3,}",
    r"\s+\S",
    r"(?m)^x$",
    r"(?a)\w+@\w+",
    r"\W",
    r".é",
    r"(?s).\n.",
    r"(?x) a  b # comment",
    r"[\u00e0-\u00ff]+",
    r"(?>ab|a)c",
    r"a++b",
    r"(?:ab){2}|c",
    r"(?i)[k-m]",
)

LIMIT_CHOICES: dict[str, tuple[int, ...]] = {
    "max_depth": (1, 2, 3, 8),
    "max_mapping_entries": (1, 2, 100),
    "max_sequence_length": (1, 3, 100),
    "max_string_length": (1, 7, 4096),
    "max_attributes": (1, 3, 128),
}

ConfigKey = tuple[Any, ...]


@cache
def engines(key: ConfigKey) -> tuple[Any, Any]:
    """(native, python) for one configuration key (see `config_key`)."""
    limits, patterns, detectors, mode, sensitive, allow, max_body, body_allow = key
    cfg = EngineConfig(
        sensitive_keys=sensitive,
        key_allowlist=frozenset(allow),
        value_patterns=tuple(re.compile(p) for p in patterns),
        secret_detectors="recommended" if detectors else (),
        value_scrub_mode=mode,
        limits=ProjectionLimits(**dict(limits)),
        max_body_bytes=max_body,
        body_field_allowlist=body_allow,
        # Issue 8: the recommended whole-token key set on every configuration.
        key_tokens=key_set_words(("recommended",)),
    )
    return build_engine(cfg, kind="native"), build_engine(cfg, kind="python")


def config_key(
    limits: dict[str, int] | None = None,
    patterns: tuple[str, ...] = (),
    detectors: bool = True,
    mode: str = "value",
    sensitive: tuple[str, ...] = DEFAULT_KEYS,
    allow: tuple[str, ...] = (),
    max_body: int = 1 << 20,
    body_allow: tuple[str, ...] = (),
) -> ConfigKey:
    return (
        tuple(sorted((limits or {}).items())),
        patterns,
        detectors,
        mode,
        sensitive,
        allow,
        max_body,
        body_allow,
    )


def outcome(call: Callable[[], Any]) -> tuple[str, Any]:
    """('ok', result) or ('raise', exception type name)."""
    try:
        return "ok", call()
    except Exception as exc:  # the comparison is the point
        return "raise", type(exc).__name__


def body_view(result: tuple[str, Any]) -> tuple[str, str | None]:
    status, fragment = result
    return status, None if fragment is None else fragment.json


def limits_of(key: ConfigKey) -> ProjectionLimits:
    return ProjectionLimits(**dict(key[0]))


# Each comparison also checks the (shared) output against the properties every output
# must have (properties.py), so a bug both engines share still fails.


def assert_same_render(key: ConfigKey, envelope: Any, compact: bool) -> None:
    native, python = engines(key)
    got = outcome(lambda: native.render(envelope, compact))
    want = outcome(lambda: python.render(envelope, compact))
    assert got == want
    if want[0] == "ok":
        properties.check_rendered(want[1], envelope, limits_of(key))


def assert_same_event(key: ConfigKey, members: tuple[Any, ...], compact: bool) -> None:
    """`render_event` equal on both engines, and equal to `render` of the envelope dict
    the reference assembles (so the native engine's direct writing of the members
    cannot drift from `render`)."""
    native, python = engines(key)
    got = outcome(lambda: native.render_event(*members, compact=compact))
    want = outcome(lambda: python.render_event(*members, compact=compact))
    assert got == want
    if want[0] != "ok":
        return
    *head, trace = members
    envelope = dict(zip(_EVENT_KEYS, head, strict=True))
    envelope["resource"] = {"service.name": envelope["resource"]}
    if trace is not None:
        envelope["trace_id"], envelope["span_id"], envelope["trace_flags"] = trace
    assert native.render(envelope, compact) == want[1]
    properties.check_rendered(want[1], envelope, limits_of(key))


_EVENT_KEYS = (
    "timestamp",
    "observed_timestamp",
    "severity_text",
    "severity_number",
    "body",
    "resource",
    "instrumentation_scope",
    "attributes",
    "event_name",
)


def assert_same_project(key: ConfigKey, value: Any, compact: bool) -> None:
    native, python = engines(key)
    got = outcome(lambda: native.project(value, compact))
    want = outcome(lambda: python.project(value, compact))
    assert got == want
    if want[0] != "ok":
        return
    if isinstance(value, BodyFragment):  # written verbatim, whatever the limits (engine.md)
        assert properties.parse(want[1]) == properties.parse(value.json)
    else:
        properties.check_projected(want[1], limits_of(key))


def assert_same_body(key: ConfigKey, data: bytes) -> None:
    native, python = engines(key)
    got = outcome(lambda: body_view(native.capture_body(data)))
    want = outcome(lambda: body_view(python.capture_body(data)))
    assert got == want, data
    if want[0] == "ok" and want[1][1] is not None:
        properties.check_body(want[1][1], limits_of(key))
