"""Shared inputs for the engine benchmarks: engines built from the default settings
(bodies up to 1 MiB), a typical 404 event envelope, and request bodies of ~2 KB and
~64 KB."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sec_audit.core.config import SecAuditSettings
from sec_audit.core.engine import BodyFragment, EngineConfig, build_engine, native_available

MAX_BODY = 1 << 20


def engine_config() -> EngineConfig:
    settings = SecAuditSettings.from_value({"core": {"max_body_bytes": MAX_BODY}})
    return EngineConfig.from_settings(settings.core, settings.logging.projection_limits)


@pytest.fixture(scope="session")
def engines() -> dict[str, Any]:
    """{"native": ..., "python": ...} (native missing -> its benchmarks skip)."""
    cfg = engine_config()
    built = {"python": build_engine(cfg, kind="python")}
    if native_available():
        built["native"] = build_engine(cfg, kind="native")
    return built


def json_body(size: int) -> bytes:
    """A realistic JSON object of about `size` bytes: nested, a few secrets, a list of
    line items (the part a real API body grows by)."""
    items: list[dict[str, Any]] = []
    body: dict[str, Any] = {
        "user": {"name": "alice", "email": "alice@example.com", "password": "hunter2"},
        "shipping": {"street": "1 Main St", "city": "Zürich", "zip": "8001"},
        "items": items,
    }
    i = 0
    while len(json.dumps(body)) < size - 60:
        items.append(
            {"sku": f"SKU-{i:05d}", "qty": i % 7, "note": "gift wrap please", "price": 12.5}
        )
        i += 1
    body["api_key"] = "sk_live_0123456789abcdefABCDEF"
    return json.dumps(body).encode()


BODIES = {"2KB": json_body(2 * 1024), "64KB": json_body(64 * 1024)}


def event_envelope(**extra: Any) -> dict[str, Any]:
    """The envelope the formatter builds for a 404 (attributes in the Django layer's order)."""
    return {
        "timestamp": 1700000000123456789,
        "observed_timestamp": 1700000000123999999,
        "severity_text": "WARN",
        "severity_number": 13,
        "body": "http.response.client_error",
        "resource": {"service.name": "shop", "deployment.environment": "prod"},
        "instrumentation_scope": {"name": "sec_audit.django", "version": "0.2.0"},
        "attributes": {
            "event_type": "http.response.client_error",
            "schema_version": "1.0",
            "request_id": "4f1c2b9e8d7a4c3b9a8f7e6d5c4b3a29",
            "http.request.method": "GET",
            "url.full": "https://shop.example.com/products/does-not-exist?ref=mail",
            "url.path": "/products/does-not-exist",
            "http.route": None,
            "http.response.status_code": 404,
            "duration_ns": 1834221,
            "source.address": "203.0.113.7",
            "user.id": "42",
            "session.id": "9b8a7c6d5e4f3a2b",
            "user_agent.original": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Chrome/126.0 Safari/537.36",
            "http.request.header.host": "shop.example.com",
            **extra,
        },
        "event_name": "http.response.client_error",
    }


def fragment_for(engines: dict[str, Any], kind: str, size: str) -> BodyFragment:
    status, fragment = engines[kind].capture_body(BODIES[size])
    assert status == "ok" and fragment is not None
    return fragment
