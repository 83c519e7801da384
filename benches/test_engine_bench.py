"""The engine, side by side in one run (docs/performance.md, engine section).

Groups (each row's ratio is to the group's floor, the row whose name says `orjson`):
- `render 404`: a typical 404 event -> one line: native, python reference,
  `orjson.dumps` of the same envelope (unscrubbed, unbounded: the floor).
- `render 404 + body 2KB|64KB`: the same event carrying a captured body fragment; the
  floor dumps the envelope with the parsed body inline.
- `capture_body 2KB|64KB`: request bytes -> (status, fragment): native, python,
  `orjson.dumps(json.loads(body))` (the floor).

Run: `make bench` (or `pytest benches/test_engine_bench.py --benchmark-only`).

Interleaved ratios (what docs/performance.md checks the medians against):
`python benches/test_engine_bench.py` runs the native engine and the floor of each
group in alternating batches and reports the best batch of each, which cancels most of
the drift of a shared, loaded machine; `--batches`, `--calls` adjust it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from conftest import BODIES, engine_config, event_envelope, fragment_for
from sec_audit.core.engine import build_engine

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


def interleaved(
    native: Callable[[], Any], floor: Callable[[], Any], batches: int, calls: int
) -> tuple[float, float]:
    """Best per-call time (seconds) of each, over `batches` alternating batches."""
    best = [float("inf"), float("inf")]
    for _ in range(batches):
        for i, fn in enumerate((native, floor)):
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            best[i] = min(best[i], (time.perf_counter() - start) / calls)
    return best[0], best[1]


def _groups(
    engine: Any, other: Callable[[str, bytes | None], Callable[[], Any]], calls: int
) -> list[tuple[str, Callable[[], Any], Callable[[], Any], int]]:
    """(name, engine call, the compared call, calls per batch) for render and bodies."""
    env = event_envelope()
    groups: list[tuple[str, Callable[[], Any], Callable[[], Any], int]] = [
        ("render 404", lambda: engine.render(env), other("render", None), calls),
    ]
    for size, data in BODIES.items():
        groups.append(
            (
                f"capture_body {size}",
                lambda data=data: engine.capture_body(data),
                other("capture_body", data),
                max(1, calls * 2048 // (len(data) * 7)),
            )
        )
    return groups


def main(argv: list[str] | None = None) -> None:
    import argparse
    import dataclasses

    parser = argparse.ArgumentParser(description="Interleaved native / floor ratios.")
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--calls", type=int, default=2000, help="per batch, for render")
    parser.add_argument(
        "--detectors",
        choices=("native", "python"),
        help="instead: this engine with the secret detectors on vs off (their cost)",
    )
    args = parser.parse_args(argv)
    if args.detectors:
        config = engine_config()
        on = build_engine(config, kind=args.detectors)
        off = build_engine(dataclasses.replace(config, secret_detectors=()), kind=args.detectors)
        env = event_envelope()

        def detectors_off(kind: str, data: bytes | None) -> Callable[[], Any]:
            if kind == "render":
                return lambda: off.render(env)
            return lambda: off.capture_body(data)

        groups = _groups(on, detectors_off, args.calls)
        print(f"| Benchmark ({args.detectors}) | detectors on | off | on vs off |")
    else:
        native = build_engine(engine_config(), kind="native")
        envelope = event_envelope()

        def floor(kind: str, data: bytes | None) -> Callable[[], Any]:
            if kind == "render":
                return lambda: orjson.dumps(envelope)
            return lambda: orjson.dumps(json.loads(data or b"{}"))

        groups = _groups(native, floor, args.calls)
        print("| Benchmark | native | floor | native vs floor |")
    print("|---|---:|---:|---:|")
    for name, fn, compared, calls in groups:
        a, b = interleaved(fn, compared, args.batches, calls)
        print(f"| {name} | {a * 1e6:.2f} us | {b * 1e6:.2f} us | {a / b:.3f}x |", flush=True)


if __name__ == "__main__":
    main()
