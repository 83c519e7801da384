"""The middleware's own work per request, in microseconds: `start` + `finish` in a loop.

The Django table (benches/test_django_bench.py) measures what users see, but on a
shared 2-core machine a 10 us change hides in the noise of a 300 us request. This
measures only the audit's part, for one prebuilt request per scenario (through
Session + Authentication middleware, URL resolved, the response the view gave):
`start(request)`, then `finish(audit, response)`, the line formatted by the real
formatter and written to a discarding stream. The same request object is reused (its
one-line mark removed each time; Django keeps a read body cached on it, so the POST
body is read from the stream once only). Best of `--batches` batches of `--requests`
(thread CPU time). It runs hotter than a real request (the code and data stay in the
caches), so it is a floor, and a fair before/after comparison:
`PYTHONPATH=<tree>/python python benches/middleware_cost.py` measures another tree.

`--cold KB` evicts the caches before each request (a scan of a KB-kilobyte buffer,
timed on its own in the same batches and subtracted): in a real request the audit's
code and data are not in L1/L2 when it runs, Django's own work in between pushed them
out, and that is most of what the Client table adds over the hot loop
(docs/performance.md, Where the remaining microseconds go).

`--profile` prints a cProfile of the chosen scenario's loop instead.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import sys
import time
from collections.abc import Callable
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# name -> (SEC_AUDIT, method, path, body size)
SCENARIOS: dict[str, tuple[dict[str, Any], str, str, int]] = {
    "GET 200, not logged": ({}, "GET", "/ok/", 0),
    "GET 404, logged": ({}, "GET", "/items/7/", 0),
    "POST 2 KB JSON, logged with body": (
        {"core": {"log_ok_responses": True, "log_request_bodies": True}},
        "POST",
        "/status/200/",
        2 * 1024,
    ),
}


def prepared(
    sec_audit: dict[str, Any], method: str, path: str, size: int, engine: str
) -> Callable[[], None]:
    """`start` and `finish` for one prepared request (RequestFactory, Session and
    Authentication middleware, URL resolved) with the response the view gave."""
    from django.contrib.auth.middleware import AuthenticationMiddleware
    from django.contrib.sessions.middleware import SessionMiddleware
    from django.http import Http404
    from django.test import RequestFactory
    from django.urls import resolve

    from sec_audit.django import middleware
    from sec_audit.django.logging.formatters import audit_jsonl_formatter
    from sec_audit.django.runtime import DjangoLoggingRuntime, set_runtime

    sys.path.insert(0, os.path.join(ROOT, "benches"))
    from conftest import json_body

    runtime = set_runtime(DjangoLoggingRuntime(sec_audit, engine_kind=engine))
    logger = logging.getLogger("sec_audit.audit")
    handler = logging.StreamHandler(_Discard())
    handler.setFormatter(audit_jsonl_formatter(settings=runtime.config, engine=runtime.engine))
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False

    body = json_body(size) if size else b""
    factory = RequestFactory()

    def fresh() -> Any:
        request = factory.generic(
            method, path, body, "application/json", HTTP_USER_AGENT="bench/1.0"
        )
        SessionMiddleware(lambda r: None).process_request(request)  # type: ignore[arg-type]
        AuthenticationMiddleware(lambda r: None).process_request(request)  # type: ignore[arg-type]
        request.resolver_match = resolve(path)
        return request

    request = fresh()
    match = request.resolver_match
    try:
        response = match.func(request, *match.args, **match.kwargs)
    except Http404 as exc:
        from django.http import HttpResponseNotFound

        middleware.AuditMiddleware.process_exception(None, request, exc)  # type: ignore[arg-type]
        response = HttpResponseNotFound()
    start, finish = middleware.start, middleware.finish

    state = request.__dict__

    def once() -> None:
        state.pop("_sec_audit_written", None)
        audit = start(request)
        assert audit is not None
        finish(audit, response)

    return once


class _Discard(io.TextIOBase):
    def write(self, text: str) -> int:
        return len(text)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", default="native")
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--only", default="")
    parser.add_argument("--cold", type=int, default=0, metavar="KB")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    sys.path.append(ROOT)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.django.settings")
    import django

    django.setup()
    for name, (sec_audit, method, path, size) in SCENARIOS.items():
        if args.only not in name:
            continue
        audited = prepared(sec_audit, method, path, size, args.engine)
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(args.requests * 10):
                audited()
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
            continue
        best = _best(audited, args.batches, args.requests, args.cold)
        mode = f"cold ({args.cold} KB evicted)" if args.cold else "hot"
        print(f"| {name} | {args.engine} | {mode} | {best * 1e6:.1f} us |", flush=True)


def _best(audited: Callable[[], None], batches: int, requests: int, cold_kb: int) -> float:
    """Best per-request thread CPU time over the batches; with `cold_kb`, each request
    follows a cache-evicting scan, and the best scan-only time of the same (interleaved)
    batches is subtracted."""
    best = float("inf")
    if not cold_kb:
        for _ in range(batches):
            cpu = time.thread_time()
            for _ in range(requests):
                audited()
            best = min(best, (time.thread_time() - cpu) / requests)
        return best
    # bytes.find of a byte that is not there reads every cache line of the buffer (memchr).
    buffer = b"\x02" * (cold_kb * 1024)  # written, so backed by real pages
    find = buffer.find
    scan_only = float("inf")
    for _ in range(batches):
        cpu = time.thread_time()
        for _ in range(requests):
            find(1)
        scan_only = min(scan_only, (time.thread_time() - cpu) / requests)
        cpu = time.thread_time()
        for _ in range(requests):
            find(1)
            audited()
        best = min(best, (time.thread_time() - cpu) / requests)
    return best - scan_only


if __name__ == "__main__":
    main()
