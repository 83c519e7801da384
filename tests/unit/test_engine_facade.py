"""The facade: engine choice through SEC_AUDIT_ENGINE, EngineConfig normalisation."""

from __future__ import annotations

import re
import sys

import pytest

from sec_audit.core import engine as facade
from sec_audit.core.config import DETECTOR_NAMES, CoreAuditConfig, ProjectionLimits
from sec_audit.core.engine import (
    EngineConfig,
    EngineUnavailableError,
    active_engine_name,
    build_engine,
    native_available,
)
from sec_audit.core.errors import AuditConfigurationError


@pytest.fixture
def no_native(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sec_audit._native", None)  # import raises ImportError


def test_python_is_always_available(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEC_AUDIT_ENGINE", "python")
    assert active_engine_name() == "python"
    assert build_engine(EngineConfig()).name == "python"
    assert build_engine(EngineConfig(), kind="python").name == "python"


@pytest.mark.usefixtures("no_native")
def test_auto_falls_back_to_python_when_native_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not native_available()
    for value in ("auto", "AUTO", ""):
        monkeypatch.setenv("SEC_AUDIT_ENGINE", value)
        assert active_engine_name() == "python"
    monkeypatch.delenv("SEC_AUDIT_ENGINE")
    assert build_engine(EngineConfig()).name == "python"


@pytest.mark.usefixtures("no_native")
def test_native_when_missing_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEC_AUDIT_ENGINE", "native")
    with pytest.raises(EngineUnavailableError, match=r"sec_audit\._native"):
        build_engine(EngineConfig())
    with pytest.raises(EngineUnavailableError):
        active_engine_name()
    with pytest.raises(EngineUnavailableError):
        build_engine(EngineConfig(), kind="native")
    assert issubclass(EngineUnavailableError, RuntimeError)


def test_native_available_needs_the_engine_class(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sec_audit._native", type(sys)("sec_audit._native"))
    assert not native_available()


def test_unknown_engine_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEC_AUDIT_ENGINE", "rust")
    with pytest.raises(AuditConfigurationError, match=r"SEC_AUDIT_ENGINE.*auto, native, python"):
        build_engine(EngineConfig())
    with pytest.raises(AuditConfigurationError):
        build_engine(EngineConfig(), kind="fast")


def test_engine_config_from_settings_normalises_once() -> None:
    core = CoreAuditConfig(
        sensitive_keys=("API_KEY", "x-Token", "--", ""),
        sensitive_key_allowlist=("Token_Expiry", "_"),
        sensitive_value_patterns=(re.compile(r"\d{16}"),),
        secret_detectors=("jwt", "aws_access_key_id"),
        value_scrub_mode="match",
        max_body_bytes=10,
        body_field_allowlist=("a", "B"),
    )
    limits = ProjectionLimits(max_depth=3)
    cfg = EngineConfig.from_settings(core, limits)
    assert cfg.sensitive_keys == ("apikey", "xtoken")
    assert cfg.key_allowlist == frozenset({"tokenexpiry"})
    assert cfg.secret_detectors == ("aws_access_key_id", "jwt")
    assert cfg.value_scrub_mode == "match"
    assert cfg.limits is limits
    assert (cfg.max_body_bytes, cfg.body_field_allowlist) == (10, ("a", "B"))
    assert EngineConfig(**{f: getattr(cfg, f) for f in cfg.__dataclass_fields__}) == cfg


def test_engine_config_defaults_and_validation() -> None:
    cfg = EngineConfig()
    assert cfg.limits == ProjectionLimits()
    assert EngineConfig(secret_detectors="recommended").secret_detectors == DETECTOR_NAMES  # type: ignore[arg-type]
    with pytest.raises(AuditConfigurationError, match="nope"):
        EngineConfig(secret_detectors=("nope",))
    with pytest.raises(AuditConfigurationError, match="value_scrub_mode"):
        EngineConfig(value_scrub_mode="spans")  # type: ignore[arg-type]
    with pytest.raises(AuditConfigurationError):
        EngineConfig(value_patterns=(re.compile(b"x"),))  # type: ignore[arg-type]


def test_public_names() -> None:
    for name in (
        "EngineConfig",
        "BodyFragment",
        "build_engine",
        "EngineUnavailableError",
        "active_engine_name",
    ):
        assert name in facade.__all__
