"""Where a logged request's added time goes inside real Django test Client requests.

`benches/middleware_cost.py` times the middleware in a hot loop, which runs about
twice as fast as the same code inside a request (docs/performance.md). This measures
in the request itself, two ways:

- `--stub PIECES` (default): for each piece, the interleaved Client harness of
  `test_django_bench.py` (no middleware vs native) runs with that piece replaced by a
  constant; the drop in the added microseconds is what the piece costs in a request.
  Pieces: `full` (nothing stubbed), `finish` (the whole after-view path), `record`
  (the emission), `format` (the formatter), `render` (the one native call),
  `trace` (reading the OpenTelemetry span),
  `attributes` (the attribute builder), `url`, `user`, `route`, `drf`. The stubs
  change the written lines: this is a timing tool only.
- `--loop N`: N Client requests of the scenario inside one `functools.reduce` call,
  so callgrind can count exactly those instructions:
  `valgrind --tool=callgrind --toggle-collect=functools_reduce python
  benches/client_attribution.py --loop 200 --variant native` (and `--variant
  no_middleware`); the difference per request is the middleware's instructions.
  With `--stub PIECE` (one piece) the loop runs with that piece stubbed, so the
  instructions a piece costs in a request can be counted too.

`--only` picks the scenario (a part of its name, default the logged 404).
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _stubs() -> dict[str, tuple[Any, str, Any]]:
    """piece -> (owner, attribute, replacement)."""
    from sec_audit.django import http_events
    from sec_audit.django import middleware as mw
    from sec_audit.django import request as req
    from sec_audit.django.runtime import DjangoLoggingRuntime
    from sec_audit.logging import emission
    from sec_audit.logging.formatters import JSONLLogFormatter

    def attributes(audit: Any, status: int, event_type: str, duration: Any) -> dict[str, Any]:
        return {"event_type": event_type, "schema_version": audit.runtime.schema_version}

    return {
        "finish": (mw, "finish", lambda audit, response: None),
        "record": (DjangoLoggingRuntime, "record", lambda self, e, level, owned=False: True),
        "format": (JSONLLogFormatter, "format", lambda self, record: '{"stub": 1}'),
        "render": (JSONLLogFormatter, "render_event", lambda self, r, e: '{"stub": 1}'),
        "trace": (emission, "active_trace", lambda: None),
        "attributes": (http_events, "http_attributes", attributes),
        "url": (req, "request_url", lambda request: ("http://testserver/", None)),
        "user": (req, "request_user", lambda request: None),
        "route": (req, "route_of", lambda request: (None, None)),
        "drf": (http_events, "drf_attributes", lambda request: None),
    }


@contextmanager
def stubbed(piece: str) -> Iterator[None]:
    if piece == "full":
        yield
        return
    owner, name, replacement = _stubs()[piece]
    original = owner.__dict__[name]
    setattr(owner, name, replacement)
    try:
        yield
    finally:
        setattr(owner, name, original)


def _scenario(only: str) -> str:
    import test_django_bench as bench

    names = [name for name in bench.SCENARIOS if only in name]
    if not names:
        raise SystemExit(f"no scenario matches {only!r}: {', '.join(bench.SCENARIOS)}")
    return names[0]


def stub_table(scenario: str, pieces: list[str], repeats: int, batches: int) -> None:
    import test_django_bench as bench

    added: dict[str, list[float]] = {piece: [] for piece in pieces}
    for _ in range(repeats):
        for piece in pieces:  # rotated within each repeat: drift spreads over all
            with stubbed(piece):
                best = bench.interleaved(
                    "client", ["no_middleware", "native"], scenario, batches, 50
                )
            added[piece].append((best["native"] - best["no_middleware"]) * 1e6)
    print(f"{scenario}: microseconds the native middleware adds, per stubbed piece")
    print(f"(median of {repeats} repeats, range; thread CPU time, best of {batches} batches)\n")
    print("| stubbed | added | range | the piece costs |")
    print("|---|---:|---:|---:|")
    full = statistics.median(added["full"]) if "full" in added else None
    for piece, values in added.items():
        median = statistics.median(values)
        cost = "" if full is None or piece == "full" else f"{full - median:.1f} us"
        print(f"| {piece} | {median:.1f} us | {min(values):.1f}-{max(values):.1f} | {cost} |")


def loop(scenario: str, variant: str, requests: int) -> None:
    import test_django_bench as bench
    from conftest import json_body

    sec_audit, method, path, size, _ = bench.SCENARIOS[scenario]
    body = json_body(size) if size else b""
    handler, restore = bench._audit_logger()
    try:
        call: Callable[[str, str, bytes], None] = bench.client_app(variant, sec_audit, handler, [])
        bench.reactivate(variant)
        for _ in range(30):  # warm, outside the counted call
            call(method, path, body)
        functools.reduce(lambda _, __: call(method, path, body), range(requests), None)
    finally:
        restore()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--only", default="404", help="a part of the scenario's name")
    parser.add_argument(
        "--stub",
        help="pieces, comma-separated (table: default all but the small ones; --loop: one)",
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--loop", type=int, default=0, metavar="N", help="N requests, no table")
    parser.add_argument("--variant", default="native", choices=["no_middleware", "native"])
    args = parser.parse_args(argv)
    sys.path[:0] = [os.path.join(ROOT, "benches"), ROOT]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.django.settings")
    import django

    django.setup()
    scenario = _scenario(args.only)
    default = "full" if args.loop else "full,finish,record,format,render,attributes"
    pieces = [piece.strip() for piece in (args.stub or default).split(",") if piece.strip()]
    unknown = [p for p in pieces if p != "full" and p not in _stubs()]
    if unknown:
        raise SystemExit(f"unknown piece(s) {unknown}; choose from full, {', '.join(_stubs())}")
    if args.loop:
        if len(pieces) != 1:
            raise SystemExit("--loop stubs one piece at a time")
        with stubbed(pieces[0]):
            loop(scenario, args.variant, args.loop)
        return
    stub_table(scenario, pieces, args.repeats, args.batches)


if __name__ == "__main__":
    main()
