"""Replay the adversarial corpus: native == reference on every case, and both equal the
case's reviewed `expect` (so a bug both engines share fails here too)."""

from __future__ import annotations

from typing import Any

import pytest

from . import strategies as S
from .corpus import body_bytes, cases, decode
from .engines import (
    assert_same_body,
    assert_same_project,
    assert_same_render,
    body_view,
    config_key,
    engines,
)

CASES = cases()
# `<unserializable:module.Type>` names the test types' module as pytest imported it.
WRITTEN_MODULE = "tests.parity.strategies."


def _expected(case: dict[str, Any]) -> Any:
    expect = case["expect"]
    if isinstance(expect, str):
        return expect.replace(WRITTEN_MODULE, S.__name__ + ".")
    return expect


def _key(case: dict[str, Any]) -> Any:
    cfg = dict(case.get("config", {}))
    for field in ("patterns", "sensitive", "allow", "body_allow"):
        if field in cfg:
            cfg[field] = tuple(cfg[field])
    return config_key(**cfg)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_corpus_case(case: dict[str, Any]) -> None:
    key = _key(case)
    kind = case["kind"]
    compact = bool(case.get("compact"))
    if kind == "body":
        assert_same_body(key, body_bytes(case))
    elif kind == "render":
        assert_same_render(key, decode(case["input"]), compact)
    else:
        assert_same_project(key, decode(case["input"]), compact)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_corpus_case_expected_output(case: dict[str, Any]) -> None:
    # Each engine on its own against the written-down answer (fresh input per engine:
    # a walk must not depend on what an earlier one did to the objects).
    for engine in engines(_key(case)):
        kind = case["kind"]
        if kind == "body":
            status, fragment = body_view(engine.capture_body(body_bytes(case)))
            assert [status, fragment] == _expected(case), engine.name
        elif kind == "render":
            got = engine.render(decode(case["input"]), bool(case.get("compact")))
            assert got == _expected(case), engine.name
        else:
            got = engine.project(decode(case["input"]), bool(case.get("compact")))
            assert got == _expected(case), engine.name


def test_corpus_is_not_empty() -> None:
    assert len(CASES) >= 40
    assert all("expect" in case for case in CASES)
