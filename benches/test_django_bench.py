"""Django middleware overhead: a request through the real handler, with and without us.

Every scenario runs three ways: `no_middleware` (Session + Authentication only: the
reference), and the same stack plus `AuditMiddleware` with the `native` and the
`python` engine, chosen explicitly (not through SEC_AUDIT_ENGINE). Emitted lines are
fully formatted by the real formatter and written to a stream that discards them.

Interleaved ratios (what docs/performance.md reports and `make bench` prints):
`python benches/test_django_bench.py` runs the three stacks of a scenario in rotating
batches, keeps the best batch of each (thread CPU time), and repeats the whole
measurement (`--repeats`) to give a median and a range. Two harnesses: `client`
(default: `django.test.Client`, the issue's harness) and `handler` (a `WSGIHandler`
called with prebuilt environs: less of Django around the request, so larger ratios).
`--engines`, `--batches`, `--requests`, `--only` adjust it; another tree (e.g. the
previous commit's) is measured with `PYTHONPATH=<tree>/python`.

The pytest-benchmark tests below (`pytest benches/test_django_bench.py
--benchmark-only`) use the handler harness; their medians move by 5-10% between
variants run minutes apart and are not used for the ratios.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.test import RequestFactory, override_settings

from conftest import json_body
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


_activations: dict[str, Callable[[], None]] = {}


def activate(variant: str, sec_audit: dict[str, Any], handler: logging.Handler) -> None:
    """Install `variant`'s runtime and formatter now, and remember how to do it again
    (`reactivate`: the audited stacks share the process-wide runtime)."""
    if variant == "no_middleware":
        _activations[variant] = lambda: None
        return
    runtime = DjangoLoggingRuntime(sec_audit, engine_kind=variant)
    formatter = audit_jsonl_formatter(settings=runtime.config, engine=runtime.engine)

    def install() -> None:
        set_runtime(runtime)
        handler.setFormatter(formatter)

    install()
    _activations[variant] = install


def reactivate(variant: str) -> None:
    _activations[variant]()


def enable_stack(
    variant: str, sec_audit: dict[str, Any], handler: logging.Handler, overrides: list[Any]
) -> None:
    """`variant`'s MIDDLEWARE and SEC_AUDIT, enabled (appended to `overrides`: disable in
    reverse), and its runtime and formatter installed."""
    middleware = BASE_MIDDLEWARE + ([] if variant == "no_middleware" else [AUDIT_MIDDLEWARE])
    override = override_settings(MIDDLEWARE=middleware, SEC_AUDIT=sec_audit)
    override.enable()
    overrides.append(override)
    activate(variant, sec_audit, handler)


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
    enable_stack(variant, sec_audit, handler, overrides)
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
    body = json_body(size)
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

# name -> (SEC_AUDIT, method, path, body size, native target ratio)
SCENARIOS: dict[str, tuple[dict[str, Any], str, str, int, float]] = {
    "GET 200, not logged": ({}, "GET", "/ok/", 0, 1.05),
    "GET 404, logged": ({}, "GET", "/items/7/", 0, 1.20),
    "POST 2 KB JSON, logged with body": (POST_SETTINGS, "POST", "/status/200/", 2 * 1024, 1.30),
    "POST 64 KB JSON, logged with body": (POST_SETTINGS, "POST", "/status/200/", 64 * 1024, 1.50),
}


def client_app(
    variant: str, sec_audit: dict[str, Any], handler: logging.Handler, overrides: list[Any]
) -> Callable[[str, str, bytes], None]:
    """call(method, path, body) through `django.test.Client` for `variant`'s stack."""
    from django.test import Client

    enable_stack(variant, sec_audit, handler, overrides)
    client = Client()
    client.get("/ok/")  # loads this stack's middleware chain now, under its override

    def call(method: str, path: str, body: bytes) -> None:
        client.generic(method, path, body, "application/json", HTTP_USER_AGENT="bench/1.0")

    return call


def handler_app(
    variant: str, sec_audit: dict[str, Any], handler: logging.Handler, overrides: list[Any]
) -> Callable[[str, str, bytes], None]:
    """call(method, path, body) straight into a `WSGIHandler` (less noise than Client)."""
    wsgi = build_app(variant, sec_audit, handler, overrides)
    environs: dict[tuple[str, str, bytes], dict[str, Any]] = {}

    def call(method: str, path: str, body: bytes) -> None:
        key = (method, path, body)
        environ = environs.get(key)
        if environ is None:
            environ = environs[key] = _environ(method, path, body)
            environ["_body"] = body
        wsgi(environ)

    return call


HARNESSES = {"client": client_app, "handler": handler_app}


def interleaved(
    harness: str,
    variants: list[str],
    scenario: str,
    batches: int,
    requests: int,
) -> dict[str, float]:
    """Best-of-`batches` seconds per request of each variant's stack for one scenario,
    the variants run in alternating batches of `requests` requests. Thread CPU time:
    on this shared machine the wall clock mostly measures the neighbours (with the
    machine quiet the two agree within a few percent)."""
    sec_audit, method, path, size, _ = SCENARIOS[scenario]
    body = json_body(size) if size else b""
    handler, restore = _audit_logger()
    overrides: list[Any] = []
    try:
        calls = {v: HARNESSES[harness](v, sec_audit, handler, overrides) for v in variants}
        for variant, call in calls.items():
            reactivate(variant)
            for _ in range(30):  # warm: URL resolver, caches, lazy imports
                call(method, path, body)
        best: dict[str, float] = {}
        for batch in range(batches):
            shift = batch % len(variants)
            for variant in variants[shift:] + variants[:shift]:
                call = calls[variant]
                reactivate(variant)
                cpu = time.thread_time()
                for _ in range(requests):
                    call(method, path, body)
                cpu = (time.thread_time() - cpu) / requests
                best[variant] = min(best.get(variant, cpu), cpu)
        return best
    finally:
        for override in reversed(overrides):
            override.disable()
        restore()
        reset_runtime()


def main(argv: list[str] | None = None) -> None:
    import argparse
    import os
    import statistics
    import sys

    parser = argparse.ArgumentParser(description="Interleaved middleware overhead ratios.")
    parser.add_argument("--harness", choices=sorted(HARNESSES), default="client")
    parser.add_argument("--engines", default="native,python")
    parser.add_argument("--repeats", type=int, default=3, help="whole measurements (ranges)")
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--only", default="", help="scenarios whose name contains this")
    args = parser.parse_args(argv)
    # The package under test is the installed (editable) one; another tree, e.g. the
    # previous commit's, comes first with PYTHONPATH=<tree>/python.
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sys.path.append(root)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.django.settings")
    import django

    django.setup()
    engines = [e for e in args.engines.split(",") if e != "native" or native_available()]
    variants = ["no_middleware", *engines]
    names = [name for name in SCENARIOS if args.only in name]
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    for repeat in range(args.repeats):
        for name in names:
            best = interleaved(args.harness, variants, name, args.batches, args.requests)
            runs[name].append(best)
            shown = ", ".join(
                f"{v} {best[v] * 1e6:.0f} us ({best[v] / best['no_middleware']:.3f}x)"
                for v in variants
            )
            print(f"repeat {repeat + 1} | {name}: {shown}", flush=True)
    print(
        f"\n{args.harness} harness, thread CPU time per request: best of {args.batches} "
        f"interleaved batches of {args.requests} requests, {args.repeats} repeats (median, "
        "range of the repeats)\n"
    )
    header = "| Scenario | no middleware |"
    rule = "|---|---:|"
    for engine in engines:
        header += f" {engine} | {engine} ratio |"
        rule += "---:|---:|"
    print(header + " target (native) | met? |")
    print(rule + "---:|---|")
    for name in names:
        target = SCENARIOS[name][4]
        measured = runs[name]
        base = [m["no_middleware"] for m in measured]
        row = f"| {name} | {statistics.median(base) * 1e6:.0f} us |"
        met = ""
        for engine in engines:
            ratios = [m[engine] / m["no_middleware"] for m in measured]
            cost = statistics.median(m[engine] for m in measured) * 1e6
            row += (
                f" {cost:.0f} us | {statistics.median(ratios):.2f}x "
                f"({min(ratios):.2f}-{max(ratios):.2f}) |"
            )
            if engine == "native":
                met = "yes" if statistics.median(ratios) <= target else "**no**"
        print(row + f" <= {target:.2f}x | {met} |")


if __name__ == "__main__":
    main()
