"""Django middleware overhead: a request through the real handler, with and without us.

Handler-level harness: a `WSGIHandler` built for the middleware stack under test is
called directly with prebuilt WSGI environs (django.test.Client adds far more noise
than the middleware costs). Every scenario runs three ways in the same run:
`no_middleware` (Session + Authentication only: the reference), and the same stack
plus `AuditMiddleware` with the `native` and the `python` engine, chosen explicitly
(not through SEC_AUDIT_ENGINE). Emitted lines are fully formatted by the real
formatter and written to a stream that discards them.

Run: `make bench` (or `pytest benches/test_django_bench.py --benchmark-only`).

Interleaved ratios (what docs/performance.md reports): `python benches/test_django_bench.py`
runs each scenario's reference and audited stacks in alternating batches and reports the
best batch of each (wall clock and thread CPU time), which cancels most of the drift of a
shared, loaded machine; `--engines`, `--batches`, `--requests` adjust it.
"""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.test import RequestFactory, override_settings

from sec_audit.core.engine import native_available
from sec_audit.django.logging.formatters import audit_jsonl_formatter
from sec_audit.django.runtime import DjangoLoggingRuntime, reset_runtime, set_runtime

BASE_MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
AUDIT_MIDDLEWARE = "sec_audit.django.middleware.AuditMiddleware"
VARIANTS = ("no_middleware", "native", "python")


class Discard(io.TextIOBase):
    """A stream that accepts and drops every line (the handler still formats it)."""

    def write(self, text: str) -> int:
        return len(text)


def _json_body(size: int) -> bytes:
    """A realistic JSON object of about `size` bytes (nested, a few secrets)."""
    items = []
    body: dict[str, Any] = {"user": {"name": "alice", "password": "hunter2"}, "items": items}
    i = 0
    while len(json.dumps(body)) < size:
        items.append(
            {"sku": f"SKU-{i:05d}", "qty": i % 7, "note": "gift wrap please", "price": 12.5}
        )
        i += 1
    body["api_key"] = "sk_live_0123456789abcdefABCDEF"
    return json.dumps(body).encode()


def _environ(method: str, path: str, body: bytes = b"") -> dict[str, Any]:
    factory = RequestFactory()
    env = factory._base_environ(
        PATH_INFO=path,
        REQUEST_METHOD=method,
        CONTENT_TYPE="application/json",
        CONTENT_LENGTH=str(len(body)),
        HTTP_USER_AGENT="bench/1.0",
    )
    return env


def _start_response(status: str, headers: list[tuple[str, str]]) -> None:
    return None


@pytest.fixture(params=VARIANTS)
def variant(request: pytest.FixtureRequest) -> str:
    if request.param == "native" and not native_available():
        pytest.skip("native engine not built")
    return str(request.param)


def _audit_logger() -> tuple[logging.StreamHandler[Any], Callable[[], None]]:
    """`sec_audit.audit` writing only to a discarding stream; returns (handler, restore)."""
    logger = logging.getLogger("sec_audit.audit")
    handler: logging.StreamHandler[Any] = logging.StreamHandler(Discard())
    saved = (logger.level, logger.handlers[:], logger.propagate)
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False

    def restore() -> None:
        logger.setLevel(saved[0])
        logger.handlers[:] = saved[1]
        logger.propagate = saved[2]

    return handler, restore


def build_app(
    variant: str,
    sec_audit: dict[str, Any],
    handler: logging.Handler,
    overrides: list[Any],
) -> Callable[[dict[str, Any]], None]:
    """call(environ) running one request through a WSGIHandler for `variant`'s stack.

    The settings override stays enabled (appended to `overrides`, disable in reverse);
    for an audited variant the runtime and `handler`'s formatter use that engine.
    """
    middleware = BASE_MIDDLEWARE + ([] if variant == "no_middleware" else [AUDIT_MIDDLEWARE])
    override = override_settings(MIDDLEWARE=middleware, SEC_AUDIT=sec_audit)
    override.enable()
    overrides.append(override)
    if variant != "no_middleware":
        runtime = set_runtime(DjangoLoggingRuntime(sec_audit, engine_kind=variant))
        handler.setFormatter(audit_jsonl_formatter(settings=runtime.config, engine=runtime.engine))
    app = WSGIHandler()

    def call(environ: dict[str, Any]) -> None:
        env = dict(environ)
        env["wsgi.input"] = io.BytesIO(env.pop("_body", b""))
        response = app(env, _start_response)
        for _ in response:
            pass
        response.close()

    return call


@pytest.fixture
def make_app(
    variant: str,
) -> Iterator[Callable[[dict[str, Any]], Callable[[dict[str, Any]], None]]]:
    """make_app(SEC_AUDIT) -> call(environ) running one request through the handler."""
    handler, restore = _audit_logger()
    overrides: list[Any] = []

    def build(sec_audit: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
        return build_app(variant, sec_audit, handler, overrides)

    yield build
    for override in reversed(overrides):
        override.disable()
    restore()
    reset_runtime()


def _run(benchmark: Any, call: Callable[[dict[str, Any]], None], environ: dict[str, Any]) -> None:
    call(environ)  # warm: URL resolver, caches, lazy imports
    benchmark.pedantic(call, args=(environ,), rounds=300, iterations=20, warmup_rounds=20)


@pytest.mark.benchmark(group="django: GET 200, not logged")
def test_get_200_unlogged(benchmark: Any, make_app: Any) -> None:
    _run(benchmark, make_app({}), _environ("GET", "/ok/"))


@pytest.mark.benchmark(group="django: GET 404, logged")
def test_get_404_logged(benchmark: Any, make_app: Any) -> None:
    _run(benchmark, make_app({}), _environ("GET", "/items/7/"))


POST_SETTINGS: dict[str, Any] = {
    "core": {
        "log_ok_responses": True,
        "log_request_bodies": True,
        "max_body_bytes": 128 * 1024,
    }
}


def _post_environ(size: int) -> dict[str, Any]:
    body = _json_body(size)
    environ = _environ("POST", "/status/200/", body)
    environ["_body"] = body
    return environ


def _post_case(benchmark: Any, make_app: Any, size: int) -> None:
    _run(benchmark, make_app(POST_SETTINGS), _post_environ(size))


@pytest.mark.benchmark(group="django: POST 2 KB JSON, logged with body")
def test_post_2kb_logged_with_body(benchmark: Any, make_app: Any) -> None:
    _post_case(benchmark, make_app, 2 * 1024)


@pytest.mark.benchmark(group="django: POST 64 KB JSON, logged with body")
def test_post_64kb_logged_with_body(benchmark: Any, make_app: Any) -> None:
    _post_case(benchmark, make_app, 64 * 1024)


# -- interleaved ratios (python benches/test_django_bench.py) ----------------------------

SCENARIOS: dict[str, tuple[dict[str, Any], Callable[[], dict[str, Any]]]] = {
    "GET 200, not logged": ({}, lambda: _environ("GET", "/ok/")),
    "GET 404, logged": ({}, lambda: _environ("GET", "/items/7/")),
    "POST 2 KB JSON, logged with body": (POST_SETTINGS, lambda: _post_environ(2 * 1024)),
    "POST 64 KB JSON, logged with body": (POST_SETTINGS, lambda: _post_environ(64 * 1024)),
}


def interleaved(
    engine: str, sec_audit: dict[str, Any], environ: dict[str, Any], batches: int, requests: int
) -> dict[str, float]:
    """Best-of-`batches` seconds per request (wall and thread CPU) for the reference
    stack and the audited one, run in alternating batches of `requests` requests."""
    handler, restore = _audit_logger()
    overrides: list[Any] = []
    try:
        calls = {
            "base": build_app("no_middleware", sec_audit, handler, overrides),
            "audited": build_app(engine, sec_audit, handler, overrides),
        }
        for call in calls.values():
            for _ in range(30):  # warm: URL resolver, caches, lazy imports
                call(environ)
        best: dict[str, float] = {}
        order = list(calls)
        for batch in range(batches):
            for label in order if batch % 2 == 0 else order[::-1]:
                call = calls[label]
                cpu, wall = time.thread_time(), time.perf_counter()
                for _ in range(requests):
                    call(environ)
                wall = (time.perf_counter() - wall) / requests
                cpu = (time.thread_time() - cpu) / requests
                best[label] = min(best.get(label, wall), wall)
                best[label + "_cpu"] = min(best.get(label + "_cpu", cpu), cpu)
        return best
    finally:
        for override in reversed(overrides):
            override.disable()
        restore()
        reset_runtime()


def main(argv: list[str] | None = None) -> None:
    import argparse
    import os
    import sys

    parser = argparse.ArgumentParser(description="Interleaved middleware overhead ratios.")
    parser.add_argument("--engines", default="native,python")
    parser.add_argument("--batches", type=int, default=60)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args(argv)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sys.path[:0] = [os.path.join(root, "python"), root]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.django.settings")
    import django

    django.setup()
    print("| Scenario | engine | no middleware | audited | ratio (wall) | ratio (CPU) |")
    print("|---|---|---:|---:|---:|---:|")
    for name, (sec_audit, make_environ) in SCENARIOS.items():
        for engine in args.engines.split(","):
            if engine == "native" and not native_available():
                continue
            r = interleaved(engine, sec_audit, make_environ(), args.batches, args.requests)
            print(
                f"| {name} | {engine} | {r['base'] * 1e6:.0f} us | {r['audited'] * 1e6:.0f} us "
                f"| {r['audited'] / r['base']:.3f}x | {r['audited_cpu'] / r['base_cpu']:.3f}x |",
                flush=True,
            )


if __name__ == "__main__":
    main()
