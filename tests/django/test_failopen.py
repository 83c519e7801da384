"""Audit failures never break a request; the event is still written when possible."""

from __future__ import annotations

import json

import pytest

from sec_audit.django import context as context_module
from sec_audit.django import http_events, middleware
from sec_audit.django import request as req
from sec_audit.django.runtime import get_runtime

pytestmark = pytest.mark.django_db


def _boom(*args, **kwargs):
    raise RuntimeError("audit bug")


@pytest.mark.parametrize(
    ("target", "name", "reason", "lost"),
    [
        (req, "route_of", "audit.route_failed", "http.route"),
        (req, "user_identity", "audit.user_failed", "user.id"),
        (http_events, "drf_attributes", "audit.drf_failed", "drf_view_class"),
        (req, "client_address", "audit.address_failed", "source.address"),
        (req, "request_url", "audit.request_fields_failed", "url.full"),
    ],
)
def test_a_failing_part_costs_only_that_part(
    client, audit, internal, user, target, name, reason, lost
):
    client.force_login(user)
    audit.clear()
    target_attr = getattr(target, name)
    setattr(target, name, _boom)
    try:
        response = client.get("/api/accounts/999/")
    finally:
        setattr(target, name, target_attr)
    assert response.status_code == 404
    attrs = audit.attrs()
    assert attrs["http.response.status_code"] == 404
    assert len(attrs["request_id"]) == 32
    assert lost not in attrs
    assert reason in internal.reasons()


def test_failing_session_backend_costs_only_session_id(client, audit, internal, monkeypatch):
    audit.configure({"django": {"emit_session_id": True}})
    monkeypatch.setattr(context_module, "audit_session_id", _boom)
    response = client.get("/items/7/")
    assert response.status_code == 404
    attrs = audit.attrs()
    assert "session.id" not in attrs
    assert attrs["url.path"] == "/items/7/"
    assert "audit.session_failed" in internal.reasons()


def test_failing_body_engine_costs_only_the_body(client, audit, internal, monkeypatch):
    audit.configure({"core": {"log_request_bodies": True}})
    monkeypatch.setattr(get_runtime().engine, "capture_body", _boom, raising=False)
    response = client.post("/status/400/", {"a": 1}, content_type="application/json")
    assert response.status_code == 400
    attrs = audit.attrs()
    assert "request.body" not in attrs
    assert "audit.body_capture_failed" in internal.reasons()


def test_failing_start_passes_the_request_through(client, audit, internal, monkeypatch):
    monkeypatch.setattr(middleware, "RequestAudit", _boom)
    response = client.get("/items/7/")
    assert response.status_code == 404
    assert audit.lines() == []
    assert "audit.context_prep_failed" in internal.reasons()


def test_failing_emission_returns_the_response(client, audit, internal, monkeypatch):
    class Broken:
        emit_event = staticmethod(_boom)

    monkeypatch.setattr(get_runtime(), "emitter", Broken())
    response = client.get("/items/7/")
    assert response.status_code == 404
    assert "audit.emit_failed" in internal.reasons()


def test_failing_event_build_returns_the_response(client, audit, internal, monkeypatch):
    monkeypatch.setattr(http_events, "make_event", _boom)
    response = client.get("/items/7/")
    assert response.status_code == 404 and response.content
    assert "audit.response_record_failed" in internal.reasons()


def test_weird_status_code_does_not_break_the_response(client, audit, internal, monkeypatch):
    from django.http import HttpResponse

    class Odd(HttpResponse):
        @property
        def status_code(self):  # type: ignore[override]
            return "not-a-number"

        @status_code.setter
        def status_code(self, value):
            pass

    response = Odd("x")
    state = middleware.start(_request())
    middleware.finish(state, response)
    assert "audit.response_record_failed" in internal.reasons()


def test_failing_engine_render_gives_a_malformed_record_line(client, audit, internal, monkeypatch):
    formatter = audit.handler.formatter
    monkeypatch.setattr(formatter.engine, "render_event", _boom, raising=False)
    response = client.get("/items/7/")
    assert response.status_code == 404
    (line,) = audit.lines()
    assert json.loads(line)["attributes"]["event_type"] == "audit.logging.malformed_record"


def test_failing_auth_receiver_does_not_break_login(client, audit, internal, user, monkeypatch):
    from sec_audit.django.logging import auth

    monkeypatch.setattr(auth, "emit_auth_event", _boom)
    assert client.login(username="alice", password="hunter2")
    assert "audit.auth_login" in internal.reasons()


def test_failing_model_forwarder_does_not_break_save(audit, internal, monkeypatch):
    from tests.django.auditapp.models import Account

    from sec_audit.django.logging import model

    monkeypatch.setattr(model, "build_model_values", _boom)
    Account.objects.create(name="zeta")
    assert Account.objects.filter(name="zeta").exists()
    assert "audit.model_forward_failed" in internal.reasons()


def _request():
    from django.test import RequestFactory

    return RequestFactory().get("/x/")
