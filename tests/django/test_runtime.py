"""Runtime, settings handling, the formatter factory, filters/enrichers (how-to-use 7, 11)."""

from __future__ import annotations

import logging

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from sec_audit.django import runtime as runtime_module
from sec_audit.django.logging.formatters import audit_jsonl_formatter
from sec_audit.django.runtime import (
    DjangoLoggingRuntime,
    get_runtime,
    register_rule_event_consumer,
    unregister_rule_event_consumer,
)
from sec_audit.logging.formatters import JSONLLogFormatter

pytestmark = pytest.mark.django_db
EXT = "tests.django.auditapp.extensions"


def test_get_runtime_is_cached_and_reads_settings(settings):
    settings.SEC_AUDIT = {"core": {"source": "myapp"}, "logging": {"schema_version": "2.1"}}
    rt = get_runtime()
    assert rt is get_runtime()
    assert rt.config.core.source == "myapp"
    assert rt.config.logging.schema_version == "2.1"
    assert rt.engine.name in ("native", "python")


def test_override_settings_rebuilds_the_runtime(client, audit):
    before = get_runtime()
    with override_settings(SEC_AUDIT={"core": {"source": "other", "log_ok_responses": True}}):
        rt = get_runtime()
        assert rt is not before and rt.config.core.source == "other"
        client.get("/ok/")
        event = audit.one()
        assert event["resource"] == {"service.name": "other"}
    audit.clear()
    client.get("/ok/")
    assert audit.lines() == []
    assert get_runtime().config.core.source == "testapp"


def test_override_settings_schema_version_and_patterns_reach_the_line(client, audit):
    with override_settings(
        SEC_AUDIT={
            "logging": {"schema_version": "9"},
            "core": {"sensitive_value_patterns": ["items"]},
        }
    ):
        client.get("/items/7/")
    attrs = audit.attrs()
    assert attrs["schema_version"] == "9"
    assert attrs["url.path"] == "[REDACTED]"


def test_bad_settings_raise_improperly_configured_naming_the_key(settings):
    settings.SEC_AUDIT = {"core": {"sample_rate": 2}}
    with pytest.raises(ImproperlyConfigured, match=r"SEC_AUDIT\['core'\]\['sample_rate'\]"):
        get_runtime()
    settings.SEC_AUDIT = {"nope": {}}
    with pytest.raises(ImproperlyConfigured, match="Unknown SEC_AUDIT section"):
        get_runtime()


def test_bad_settings_at_request_time_fail_open(client, settings, internal):
    settings.SEC_AUDIT = {"core": {"unknown_key": 1}}
    response = client.get("/ok/")
    assert response.content == b"ok-body"
    assert "audit.context_prep_failed" in internal.reasons()


def test_formatter_factory_bad_settings_defers_the_error_naming_the_key(settings):
    # Issue 11.1: raising here would be wrapped by logging.config; the app's ready()
    # raises instead (tests/django/test_startup_errors.py), the formatter keeps it.
    settings.SEC_AUDIT = {"django": {"include_usernames": "yes"}}
    formatter = audit_jsonl_formatter()
    assert isinstance(formatter.config_error, ImproperlyConfigured)
    assert "SEC_AUDIT['django']['include_usernames']" in str(formatter.config_error)


def test_formatter_with_bad_settings_writes_malformed_and_reports(settings):
    from tests.unit._logging_helpers import internal_capture

    from sec_audit.core.events import AuditEvent

    settings.SEC_AUDIT = {"core": {"log_ok_response": True}}
    formatter = audit_jsonl_formatter()
    event = AuditEvent("auth.login.failed", "1.0", "auth.login.failed", {"password": "hunter2"})
    with internal_capture() as internal:
        record = logging.makeLogRecord({"name": "sec_audit.audit", "audit_event": event})
        line = formatter.format(record)
    assert '"event_type": "audit.logging.malformed_record"' in line
    assert "hunter2" not in line
    assert internal.reasons == ["audit.settings_invalid"]
    assert "log_ok_response" in internal.records[0].getMessage()
    # Fixed settings: the same formatter renders the event again.
    settings.SEC_AUDIT = {"core": {"log_ok_responses": True}}
    line = formatter.format(record)
    assert formatter.config_error is None


def test_formatter_factory_in_dictconfig(settings):
    import logging.config

    settings.SEC_AUDIT = {"core": {"source": "from-settings"}}
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {
                "audit_jsonl": {
                    "()": "sec_audit.django.logging.formatters.audit_jsonl_formatter",
                    "compact": True,
                }
            },
            "handlers": {"h": {"class": "logging.NullHandler", "formatter": "audit_jsonl"}},
            "loggers": {"sec_audit.factory_probe": {"handlers": ["h"]}},
        }
    )
    handler = logging.getLogger("sec_audit.factory_probe").handlers[0]
    formatter = handler.formatter
    assert isinstance(formatter, JSONLLogFormatter)
    assert formatter.compact is True
    assert formatter.scope["name"] == "sec_audit.django"
    assert formatter.settings.core.source == "from-settings"
    logging.getLogger("sec_audit.factory_probe").handlers.clear()


def test_dictconfig_with_bad_settings_does_not_raise(settings):
    import logging.config

    settings.SEC_AUDIT = {"core": {"max_body_bytes": 0}}
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {
                "audit_jsonl": {"()": "sec_audit.django.logging.formatters.audit_jsonl_formatter"}
            },
        }
    )


def test_formatter_and_runtime_share_one_engine(settings):
    settings.SEC_AUDIT = {"core": {"source": "shared"}}
    formatter = audit_jsonl_formatter()
    assert formatter.engine is get_runtime().engine


def test_bad_filter_import_is_improperly_configured(settings):
    settings.SEC_AUDIT = {"django": {"filters": [f"{EXT}.does_not_exist"]}}
    with pytest.raises(ImproperlyConfigured, match="does_not_exist"):
        get_runtime()


def test_d4_documented_callable_filter_and_enricher(client, audit):
    audit.configure(
        {
            "core": {"log_ok_responses": True},
            "django": {"filters": [f"{EXT}.drop_probe"], "enrichers": [f"{EXT}.add_environment"]},
        }
    )
    client.get("/probe/")  # dropped by the filter
    client.get("/items/7/")
    attrs = audit.attrs()
    assert attrs["url.path"] == "/items/7/"
    assert attrs["environment"] == "production"
    assert list(attrs)[-1] == "environment"  # enricher additions come last


def test_original_object_protocol_classes_and_instances(client, audit):
    from tests.django.auditapp.extensions import AddTeam

    audit.configure(
        {
            "core": {"log_ok_responses": True},
            "django": {"filters": [f"{EXT}.DropRedirects"], "enrichers": [AddTeam()]},
        }
    )
    client.get("/redirect/")
    client.get("/ok/")
    attrs = audit.attrs()
    assert attrs["event_type"] == "http.response.success"
    assert attrs["team"] == "payments"


def test_plain_function_objects_in_settings(client, audit):
    from tests.django.auditapp.extensions import add_environment

    audit.configure({"django": {"enrichers": [add_environment]}})
    client.get("/items/7/")
    assert audit.attrs()["environment"] == "production"


def test_b2_raising_enricher_keeps_the_event(client, audit, internal):
    audit.configure(
        {"django": {"enrichers": [f"{EXT}.raising_enricher", f"{EXT}.add_environment"]}}
    )
    client.get("/items/7/")
    assert audit.attrs()["environment"] == "production"
    assert "audit.enricher_failed" in internal.reasons()


def test_b3_bad_enricher_value_costs_one_field(client, audit):
    audit.configure({"django": {"enrichers": [f"{EXT}.bad_value_enricher"]}})
    client.get("/items/7/")
    attrs = audit.attrs()
    assert attrs["weird"] == "<unserializable:builtins.set>"
    assert attrs["nan"] == "nan"
    assert attrs["http.response.status_code"] == 404


def test_filters_apply_to_auth_and_model_events(client, audit, user):
    audit.configure({"django": {"filters": [f"{EXT}.drop_probe"]}})
    client.login(username="alice", password="hunter2")
    assert audit.types() == ["auth.login.success"]


def test_rule_event_consumers_see_every_recorded_event(client, audit):
    seen = []
    register_rule_event_consumer(seen.append)
    try:
        audit.configure({"django": {"filters": [f"{EXT}.drop_probe"]}})
        client.get("/probe/")  # dropped by the filter, still handed to consumers
        client.get("/items/7/")
    finally:
        unregister_rule_event_consumer(seen.append)
    assert [e.attributes["url.path"] for e in seen] == ["/probe/", "/items/7/"]
    assert len(audit.lines()) == 1


def test_raising_consumer_is_reported(client, audit, internal):
    def bad(event):
        raise RuntimeError("consumer bug")

    get_runtime().register_rule_event_consumer(bad)
    try:
        client.get("/items/7/")
    finally:
        get_runtime().unregister_rule_event_consumer(bad)
    assert len(audit.lines()) == 1
    assert "audit.consumer_failed" in internal.reasons()


def test_verifying_it_works_recipe(settings):
    # how-to-use section 11.
    settings.SEC_AUDIT = {"core": {"source": "myapp"}, "logging": {"schema_version": "1.0"}}
    rt = get_runtime()
    assert rt.config.core.source == "myapp"
    assert rt.config.logging.schema_version == "1.0"


def test_record_with_a_private_logger(settings):
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    logger = logging.getLogger("sec_audit.private_probe")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(Keep())
    rt = DjangoLoggingRuntime({"core": {"source": "x"}}, logger=logger)
    from sec_audit.core.events import AuditEvent

    assert rt.record(AuditEvent("custom.event", "1.0", "custom"), logging.INFO) is True
    assert records[0].audit_event.event_type == "custom.event"
    logger.handlers.clear()


def test_settings_are_parsed_once(settings, monkeypatch):
    from sec_audit.core.config import SecAuditSettings

    settings.SEC_AUDIT = {"core": {"source": "once"}}
    calls = []
    original = SecAuditSettings.from_value.__func__

    def counting(cls, value):
        calls.append(value)
        return original(cls, value)

    monkeypatch.setattr(SecAuditSettings, "from_value", classmethod(counting))
    get_runtime()
    audit_jsonl_formatter()
    audit_jsonl_formatter(compact=True)
    get_runtime()
    assert len([c for c in calls if isinstance(c, dict)]) == 1
    assert runtime_module.parsed_settings() is get_runtime().config


def test_middleware_without_the_app_warns_once(monkeypatch):
    # Issue 11.3: HTTP lines appear, auth events do not; say so, once per process.
    from django.http import HttpResponse
    from tests.unit._logging_helpers import internal_capture

    from sec_audit.django import middleware
    from sec_audit.logging import diagnostics

    monkeypatch.setattr(middleware, "_app_warned", False)
    apps = ["django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions"]
    with internal_capture() as internal:
        middleware.AuditMiddleware(lambda request: HttpResponse())
        assert internal.reasons == []  # the app is installed in the test settings
        with override_settings(INSTALLED_APPS=apps):
            middleware.AuditMiddleware(lambda request: HttpResponse())
            diagnostics.reset()  # not the rate limiter: the middleware itself says it once
            middleware.AuditMiddleware(lambda request: HttpResponse())
    assert internal.reasons == ["audit.app_not_installed"]


def test_middleware_without_the_app_warning_names_the_fix(monkeypatch):
    from django.http import HttpResponse
    from tests.unit._logging_helpers import internal_capture

    from sec_audit.django import middleware

    monkeypatch.setattr(middleware, "_app_warned", False)
    with internal_capture() as internal:
        with override_settings(INSTALLED_APPS=["django.contrib.contenttypes"]):
            middleware.AuditMiddleware(lambda request: HttpResponse())
    assert internal.reasons == ["audit.app_not_installed"]
    record = internal.records[0]
    assert record.levelno == logging.WARNING
    assert "sec_audit.django.apps.SecAuditConfig" in record.getMessage()
