"""Replay the adversarial corpus: native == reference on every case."""

from __future__ import annotations

from typing import Any

import pytest

from .corpus import body_bytes, cases, decode
from .engines import assert_same_body, assert_same_project, assert_same_render, config_key

CASES = cases()


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_corpus_case(case: dict[str, Any]) -> None:
    cfg = dict(case.get("config", {}))
    for field in ("patterns", "sensitive", "allow", "body_allow"):
        if field in cfg:
            cfg[field] = tuple(cfg[field])
    key = config_key(**cfg)
    kind = case["kind"]
    if kind == "body":
        assert_same_body(key, body_bytes(case))
    elif kind == "render":
        assert_same_render(key, decode(case["input"]), bool(case.get("compact")))
    else:
        assert_same_project(key, decode(case["input"]), bool(case.get("compact")))


def test_corpus_is_not_empty() -> None:
    assert len(CASES) >= 40
