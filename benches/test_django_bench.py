"""Django middleware overhead: a request through the real handler, with and without us.

Handler-level harness: a `WSGIHandler` built for the middleware stack under test is
called directly with prebuilt WSGI environs (django.test.Client adds far more noise
than the middleware costs). Every scenario runs three ways in the same run:
`no_middleware` (Session + Authentication only: the reference), and the same stack
plus `AuditMiddleware` with the `native` and the `python` engine, chosen explicitly
(not through SEC_AUDIT_ENGINE). Emitted lines are fully formatted by the real
formatter and written to a stream that discards them.

Run: `make bench` (or `pytest benches/test_django_bench.py --benchmark-only`).
"""

from __future__ import annotations

import io
import json
import logging
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


@pytest.fixture
def make_app(
    variant: str,
) -> Iterator[Callable[[dict[str, Any]], Callable[[dict[str, Any]], None]]]:
    """make_app(SEC_AUDIT) -> call(environ) running one request through the handler."""
    logger = logging.getLogger("sec_audit.audit")
    handler = logging.StreamHandler(Discard())
    saved = (logger.level, logger.handlers[:], logger.propagate)
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    overrides: list[Any] = []

    def build(sec_audit: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
        middleware = BASE_MIDDLEWARE + ([] if variant == "no_middleware" else [AUDIT_MIDDLEWARE])
        override = override_settings(MIDDLEWARE=middleware, SEC_AUDIT=sec_audit)
        override.enable()
        overrides.append(override)
        if variant != "no_middleware":
            runtime = set_runtime(DjangoLoggingRuntime(sec_audit, engine_kind=variant))
            handler.setFormatter(
                audit_jsonl_formatter(settings=runtime.config, engine=runtime.engine)
            )
        app = WSGIHandler()

        def call(environ: dict[str, Any]) -> None:
            env = dict(environ)
            env["wsgi.input"] = io.BytesIO(env.pop("_body", b""))
            response = app(env, _start_response)
            for _ in response:
                pass
            response.close()

        return call

    yield build
    for override in reversed(overrides):
        override.disable()
    logger.setLevel(saved[0])
    logger.handlers[:] = saved[1]
    logger.propagate = saved[2]
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


def _post_case(benchmark: Any, make_app: Any, size: int) -> None:
    body = _json_body(size)
    sec_audit = {
        "core": {
            "log_ok_responses": True,
            "log_request_bodies": True,
            "max_body_bytes": 128 * 1024,
        }
    }
    environ = _environ("POST", "/status/200/", body)
    environ["_body"] = body
    _run(benchmark, make_app(sec_audit), environ)


@pytest.mark.benchmark(group="django: POST 2 KB JSON, logged with body")
def test_post_2kb_logged_with_body(benchmark: Any, make_app: Any) -> None:
    _post_case(benchmark, make_app, 2 * 1024)


@pytest.mark.benchmark(group="django: POST 64 KB JSON, logged with body")
def test_post_64kb_logged_with_body(benchmark: Any, make_app: Any) -> None:
    _post_case(benchmark, make_app, 64 * 1024)
