"""The engine, side by side in one run (docs/performance.md, engine section).

Groups (each row's ratio is to the group's floor, the row whose name says `orjson`):
- `render 404`: a typical 404 event -> one line: native, python reference,
  `orjson.dumps` of the same envelope (unscrubbed, unbounded: the floor).
- `render 404 + body 2KB|64KB`: the same event carrying a captured body fragment; the
  floor dumps the envelope with the parsed body inline.
- `capture_body 2KB|64KB`: request bytes -> (status, fragment): native, python,
  `orjson.dumps(json.loads(body))` (the floor).

Run: `make bench` (or `pytest benches/test_engine_bench.py --benchmark-only`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from conftest import BODIES, event_envelope, fragment_for

IMPLS = ("native", "python", "orjson_floor")
BODY_IMPLS = ("native", "python", "json_loads_orjson_floor")


def _need(engines: dict[str, Any], impl: str) -> None:
    if impl == "native" and "native" not in engines:
        pytest.skip("native engine not built")


@pytest.mark.parametrize("impl", IMPLS)
def test_render_404(benchmark: Any, engines: dict[str, Any], impl: str) -> None:
    benchmark.group = "render 404"
    _need(engines, impl)
    env = event_envelope()
    fn: Callable[[], Any] = (
        (lambda: orjson.dumps(env))
        if impl == "orjson_floor"
        else (lambda: engines[impl].render(env))
    )
    benchmark(fn)


@pytest.mark.parametrize("size", ["2KB", "64KB"])
@pytest.mark.parametrize("impl", IMPLS)
def test_render_404_with_body(
    benchmark: Any, engines: dict[str, Any], impl: str, size: str
) -> None:
    benchmark.group = f"render 404 + body {size}"
    _need(engines, impl)
    if impl == "orjson_floor":
        env = event_envelope(**{"http.request.body": json.loads(BODIES[size])})
        benchmark(lambda: orjson.dumps(env))
        return
    env = event_envelope(**{"http.request.body": fragment_for(engines, impl, size)})
    engine = engines[impl]
    benchmark(lambda: engine.render(env))


@pytest.mark.parametrize("size", ["2KB", "64KB"])
@pytest.mark.parametrize("impl", BODY_IMPLS)
def test_capture_body(benchmark: Any, engines: dict[str, Any], impl: str, size: str) -> None:
    benchmark.group = f"capture_body {size}"
    _need(engines, impl)
    data = BODIES[size]
    if impl == "json_loads_orjson_floor":
        benchmark(lambda: orjson.dumps(json.loads(data)))
        return
    engine = engines[impl]
    status, _ = engine.capture_body(data)
    assert status == "ok"
    benchmark(lambda: engine.capture_body(data))


def test_bench_outputs_agree(engines: dict[str, Any]) -> None:
    """What is measured is the same work: both engines give the same bytes."""
    if "native" not in engines:
        pytest.skip("native engine not built")
    for size, data in BODIES.items():
        assert engines["native"].capture_body(data) == engines["python"].capture_body(data), size
        env = event_envelope(**{"http.request.body": fragment_for(engines, "native", size)})
        assert engines["native"].render(env) == engines["python"].render(env)
