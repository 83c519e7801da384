"""Shared fixtures: every engine test runs against both engines."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

ENGINE_KINDS = ("native", "python")


def native_available() -> bool:
    try:
        from sec_audit.core.engine import native_available as _available
    except ImportError:
        return False
    return _available()


@pytest.fixture(params=ENGINE_KINDS)
def engine_kind(request: pytest.FixtureRequest) -> str:
    """'native' or 'python'. The native case fails (not skips) in the run that forces it."""
    kind = request.param
    if kind == "native" and not native_available():
        if os.environ.get("SEC_AUDIT_ENGINE") == "native":
            pytest.fail("SEC_AUDIT_ENGINE=native but sec_audit._native cannot be imported")
        pytest.skip("native engine not built in this environment")
    return kind


@pytest.fixture
def make_engine(engine_kind: str) -> Callable[..., Any]:
    """make_engine(core={...}, limits={...}) -> engine of the parametrised kind.

    `core` and `limits` are given as they would appear in SEC_AUDIT, so the engine is
    always built through the real settings parser.
    """
    from sec_audit.core.config import SecAuditSettings
    from sec_audit.core.engine import EngineConfig, build_engine

    def factory(core: dict | None = None, limits: dict | None = None) -> Any:
        settings = SecAuditSettings.from_value(
            {"core": core or {}, "logging": {"projection_limits": limits or {}}}
        )
        cfg = EngineConfig.from_settings(settings.core, settings.logging.projection_limits)
        return build_engine(cfg, kind=engine_kind)

    return factory
