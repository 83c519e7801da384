"""Tables the engines hold in several places are one table (issue 9.5).

`PROTECTED_KEYS` (core/events.py) is the pipeline's protected set and the reference
engine's `VALUE_EXEMPT`; the Rust engine keeps its own copies of `KEY_EXEMPT` and
`VALUE_EXEMPT` (rust/sec-audit-py/src/render.rs), which the extension does not expose,
so they are compared here through what the native engine writes, key by key, over every
attribute name we emit and near misses of each table entry.
"""

from __future__ import annotations

from sec_audit.core.engine.python.projection import KEY_EXEMPT, VALUE_EXEMPT
from sec_audit.core.events import PROTECTED_KEYS
from sec_audit.logging import pipeline

from .engines import config_key, engines

SECRET = "AKIAIOSFODNN7EXAMPLE"  # an AWS key id: every recommended configuration redacts it
ATTRIBUTE_NAMES = (
    "user.id",
    "user.name",
    "url.query",
    "http.route",
    "http.response.status_code",
    "http.request.header.host",
    "user_agent.original",
    "action.name",
    "action.result",
    "outcome",
    "duration_ns",
    "error.type",
    "request.body",
    "message",
)


def _universe() -> list[str]:
    names = set(KEY_EXEMPT) | set(VALUE_EXEMPT) | set(ATTRIBUTE_NAMES)
    for name in KEY_EXEMPT | VALUE_EXEMPT:
        names |= {name.upper(), name.replace(".", "_"), name + "2", " " + name}
    return sorted(names)


UNIVERSE = _universe()


def test_one_protected_table_on_the_python_side() -> None:
    assert VALUE_EXEMPT is PROTECTED_KEYS
    assert pipeline.PROTECTED_KEYS is PROTECTED_KEYS
    assert VALUE_EXEMPT <= KEY_EXEMPT


def _line(engine: object, attributes: dict[str, object]) -> str:
    return engine.render({"attributes": attributes})  # type: ignore[attr-defined,no-any-return]


def test_native_value_exempt_table_equals_the_reference() -> None:
    native, python = engines(config_key(sensitive=()))
    for name in UNIVERSE:
        for engine in (native, python):
            scanned = SECRET not in _line(engine, {name: SECRET})
            assert scanned == (name not in VALUE_EXEMPT), (engine.name, name)
            # Exemptions hold for top-level attributes only.
            assert SECRET not in _line(engine, {"nested": {name: SECRET}}), (engine.name, name)


def test_native_key_exempt_table_equals_the_reference() -> None:
    # Every name is a sensitive key here: only the exempt ones keep their value.
    native, python = engines(config_key(sensitive=tuple(UNIVERSE)))
    for name in UNIVERSE:
        for engine in (native, python):
            kept = '"kept-value"' in _line(engine, {name: "kept-value"})
            assert kept == (name in KEY_EXEMPT), (engine.name, name)
            assert '"kept-value"' not in _line(engine, {"nested": {name: "kept-value"}}), name
