"""System checks: every id of docs/django.md."""

from __future__ import annotations

import logging

import pytest
from django.core import checks
from django.test import override_settings

from sec_audit.django.checks import check_sec_audit
from sec_audit.django.logging.formatters import audit_jsonl_formatter

AUDIT = "sec_audit.django.middleware.AuditMiddleware"
SESSION = "django.contrib.sessions.middleware.SessionMiddleware"
AUTH = "django.contrib.auth.middleware.AuthenticationMiddleware"


@pytest.fixture
def formatter_attached():
    handler = logging.NullHandler()
    handler.setFormatter(audit_jsonl_formatter())
    logger = logging.getLogger("sec_audit.audit")
    logger.addHandler(handler)
    yield
    logger.removeHandler(handler)


@pytest.fixture(autouse=True)
def engine_env(monkeypatch):
    # W008 depends on the environment; each test states it.
    monkeypatch.setenv("SEC_AUDIT_ENGINE", "python")


def ids(messages):
    return [m.id for m in messages]


def test_clean_configuration_has_no_messages(formatter_attached):
    assert ids(check_sec_audit()) == []


def test_checks_are_registered_with_the_security_tag(formatter_attached):
    assert check_sec_audit in checks.registry.registry.get_checks()
    assert check_sec_audit.tags == (checks.Tags.security,)
    found = checks.run_checks(tags=[checks.Tags.security])
    assert [m.id for m in found if m.id.startswith("sec_audit.")] == []


def test_e001_middleware_missing(formatter_attached):
    with override_settings(MIDDLEWARE=[SESSION, AUTH]):
        assert ids(check_sec_audit()) == ["sec_audit.E001"]


def test_e001_accepts_a_subclass(formatter_attached):
    with override_settings(MIDDLEWARE=[SESSION, AUTH, "tests.django.auditapp.extensions.MyAudit"]):
        assert ids(check_sec_audit()) == []


def test_e002_session_and_auth_after_audit(formatter_attached):
    with override_settings(MIDDLEWARE=[AUDIT, SESSION, AUTH]):
        messages = check_sec_audit()
    assert ids(messages) == ["sec_audit.E002", "sec_audit.E002"]
    assert SESSION in messages[0].msg and AUTH in messages[1].msg


def test_w003_no_jsonl_formatter():
    assert ids(check_sec_audit()) == ["sec_audit.W003"]


def test_w003_satisfied_through_a_propagating_ancestor():
    audit_logger = logging.getLogger("sec_audit.audit")
    parent = logging.getLogger("sec_audit")
    handler = logging.NullHandler()
    handler.setFormatter(audit_jsonl_formatter())
    parent.addHandler(handler)
    audit_logger.propagate = True
    try:
        assert ids(check_sec_audit()) == []
        audit_logger.propagate = False
        assert ids(check_sec_audit()) == ["sec_audit.W003"]
    finally:
        parent.removeHandler(handler)
        audit_logger.propagate = False


def test_e004_drf_required_but_not_installed(formatter_attached):
    apps = [a for a in _installed() if a != "rest_framework"]
    with override_settings(INSTALLED_APPS=apps, SEC_AUDIT={"django": {"drf_enabled": True}}):
        assert ids(check_sec_audit()) == ["sec_audit.E004"]
    with override_settings(INSTALLED_APPS=apps, SEC_AUDIT={"django": {"drf_enabled": None}}):
        assert ids(check_sec_audit()) == []


def test_e006_auditlog_required_but_not_installed(formatter_attached):
    apps = [a for a in _installed() if a != "auditlog"]
    with override_settings(
        INSTALLED_APPS=apps, SEC_AUDIT={"django": {"model_events_enabled": True}}
    ):
        assert ids(check_sec_audit()) == ["sec_audit.E006"]


def test_required_but_missing_does_not_crash_the_runtime(formatter_attached):
    from sec_audit.django.runtime import get_runtime

    apps = [a for a in _installed() if a != "auditlog"]
    with override_settings(
        INSTALLED_APPS=apps, SEC_AUDIT={"django": {"model_events_enabled": True}}
    ):
        assert get_runtime().model_events_active is False


def test_w005_body_settings_without_log_request_bodies(formatter_attached):
    with override_settings(SEC_AUDIT={"core": {"log_body_paths": ["^/api/"]}}):
        messages = check_sec_audit()
    assert ids(messages) == ["sec_audit.W005"]
    assert "log_body_paths" in messages[0].msg
    with override_settings(
        SEC_AUDIT={"core": {"log_request_bodies": True, "log_body_paths": ["^/api/"]}}
    ):
        assert ids(check_sec_audit()) == []


def test_w005_not_raised_for_d1_capture_without_allowlist(formatter_attached):
    with override_settings(SEC_AUDIT={"core": {"log_request_bodies": True}}):
        assert ids(check_sec_audit()) == []


def test_e007_invalid_settings(formatter_attached):
    with override_settings(SEC_AUDIT={"core": {"sample_rate": -1}}):
        messages = check_sec_audit()
    assert ids(messages) == ["sec_audit.E007"]
    assert "SEC_AUDIT['core']['sample_rate']" in messages[0].msg


def test_w008_python_engine_while_native_expected(formatter_attached, monkeypatch):
    from sec_audit.core import engine

    monkeypatch.delenv("SEC_AUDIT_ENGINE")
    monkeypatch.setattr(engine, "native_available", lambda: False)
    assert ids(check_sec_audit()) == ["sec_audit.W008"]
    monkeypatch.setattr(engine, "native_available", lambda: True)
    assert ids(check_sec_audit()) == []
    monkeypatch.setenv("SEC_AUDIT_ENGINE", "python")
    monkeypatch.setattr(engine, "native_available", lambda: False)
    assert ids(check_sec_audit()) == []


def _installed():
    from django.conf import settings

    return list(settings.INSTALLED_APPS)


class _OwnEmit(logging.StreamHandler):
    def emit(self, record):  # pragma: no cover - never called
        pass


def test_w010_unrecognised_audit_handler(formatter_attached, tmp_path, monkeypatch):
    monkeypatch.setenv("SEC_AUDIT_LOCK_DIR", str(tmp_path / "locks"))
    logger = logging.getLogger("sec_audit.audit")
    custom, known = _OwnEmit(), logging.FileHandler(tmp_path / "a.jsonl")
    for handler in (custom, known):
        handler.setFormatter(audit_jsonl_formatter())
        logger.addHandler(handler)
    try:
        messages = [m for m in check_sec_audit() if m.id == "sec_audit.W010"]
    finally:
        for handler in (custom, known):
            logger.removeHandler(handler)
        known.close()
    assert len(messages) == 1
    assert "_OwnEmit" in messages[0].msg
    assert "FileHandler" not in messages[0].msg  # made safe, not reported
