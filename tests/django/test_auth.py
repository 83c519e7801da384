"""Auth events (how-to-use section 4), usernames, sessions (4.5, B1/D6), D7."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate

pytestmark = pytest.mark.django_db

LOGIN = {"username": "alice", "password": "hunter2"}


def test_login_success_shares_the_request_context(client, audit, user):
    audit.configure({"core": {"log_ok_responses": True}})
    response = client.post("/login/", LOGIN, HTTP_X_FORWARDED_FOR="6.6.6.6")
    assert response.content == b"welcome"
    login_event, http_event = audit.events()
    attrs = login_event["attributes"]
    assert login_event["severity_text"] == "INFO"
    assert login_event["body"] == "auth.login.success"
    assert list(attrs) == [
        "event_type",
        "schema_version",
        "request_id",
        "source.address",
        "http.request.method",
        "url.full",
        "url.path",
        "http.route",
        "http.route_name",
        "user.id",
        "action.name",
        "action.method",
        "action.result",
        "outcome",
    ]
    assert attrs["event_type"] == "auth.login.success"
    assert attrs["request_id"] == http_event["attributes"]["request_id"]
    assert attrs["source.address"] == "127.0.0.1"
    assert attrs["url.full"] == "http://testserver/login/"
    assert attrs["http.route"] == "/login/" and attrs["http.route_name"] == "login"
    assert attrs["user.id"] == str(user.pk)
    assert (attrs["action.name"], attrs["action.method"]) == ("login", "POST")
    assert attrs["outcome"] == attrs["action.result"] == "success"
    # The HTTP event sees the user logged in by the view (read after the view).
    assert http_event["attributes"]["user.id"] == str(user.pk)
    audit.assert_no_secrets()


def test_login_failed_without_usernames(client, audit, user):
    response = client.post("/login/", {"username": "mallory", "password": "hunter2"})
    assert response.status_code == 401
    failed, http_event = audit.events()
    attrs = failed["attributes"]
    assert failed["severity_text"] == "WARNING" and failed["severity_number"] == 13
    assert failed["body"] == "auth.login.failed"
    assert attrs["event_type"] == "auth.login.failed"
    assert attrs["outcome"] == "failure"
    assert "user.name" not in attrs and "user.id" not in attrs
    assert "mallory" not in audit.text
    assert attrs["request_id"] == http_event["attributes"]["request_id"]
    audit.assert_no_secrets()


def test_login_failed_username_when_enabled_is_bounded(client, audit, user):
    audit.configure({"django": {"include_usernames": True}})
    long_name = "m" * 400 + "\r\n"
    client.post("/login/", {"username": long_name, "password": "x"})
    attrs = audit.attrs("auth.login.failed")
    assert attrs["user.name"] == "m" * 150


def test_login_failed_without_request(audit, user):
    assert authenticate(username="alice", password="wrong") is None
    attrs = audit.attrs()
    assert list(attrs) == [
        "event_type",
        "schema_version",
        "action.name",
        "action.result",
        "outcome",
    ]


def test_include_usernames_on_login_and_logout(client, audit, user):
    audit.configure({"django": {"include_usernames": True}})
    client.post("/login/", LOGIN)
    client.post("/logout/")
    assert audit.attrs("auth.login.success")["user.name"] == "alice"
    logout = audit.one("auth.logout.success")
    assert logout["body"] == "auth.logout"
    assert logout["attributes"]["user.name"] == "alice"
    assert logout["attributes"]["action.name"] == "logout"


def test_usernames_off_never_calls_get_username(client, audit, user, monkeypatch):
    from django.contrib.auth.models import User

    def boom(self):
        raise AssertionError("get_username called")

    monkeypatch.setattr(User, "get_username", boom)
    client.force_login(user)
    client.post("/logout/")
    client.get("/items/9/")
    assert "user.name" not in audit.text


def test_logout_unknown_for_anonymous(client, audit):
    client.post("/logout/")
    event = audit.one("auth.logout.unknown")
    assert event["body"] == "auth.logout"
    assert "outcome" not in event["attributes"] and "user.id" not in event["attributes"]


def test_d7_client_login_without_host_is_logged(client, audit, user):
    assert client.login(username="alice", password="hunter2")
    attrs = audit.attrs("auth.login.success")
    assert attrs["user.id"] == str(user.pk)
    assert "url.full" not in attrs and "url.path" not in attrs
    assert len(attrs["request_id"]) == 32


def test_force_login_is_logged(client, audit, user):
    client.force_login(user)
    assert audit.attrs("auth.login.success")["user.id"] == str(user.pk)


def test_auth_on_ignored_path_gets_fresh_request_fields(client, audit, user):
    audit.configure({"core": {"ignore_paths": [r"^/login/"]}})
    client.post("/login/", LOGIN)
    attrs = audit.attrs()
    assert attrs["event_type"] == "auth.login.success"
    assert attrs["url.path"] == "/login/"
    assert len(attrs["request_id"]) == 32


# -- sessions --------------------------------------------------------------------------


def test_emit_session_id_off_sets_no_cookie(client, audit):
    audit.configure({"core": {"log_ok_responses": True}})
    response = client.get("/ok/")
    assert "sessionid" not in response.cookies
    response = client.get("/items/7/")
    assert "sessionid" not in response.cookies
    assert "session.id" not in audit.text


def test_emit_session_id_unlogged_request_creates_no_session(client, audit):
    audit.configure({"django": {"emit_session_id": True}})
    response = client.get("/ok/")
    assert "sessionid" not in response.cookies
    assert audit.lines() == []


def test_b1_d6_session_id_is_real_and_correlates(client, audit, user):
    audit.configure({"core": {"log_ok_responses": True}, "django": {"emit_session_id": True}})
    client.get("/items/7/")
    first = audit.attrs()
    sid = first["session.id"]
    assert sid != "[REDACTED]" and len(sid) == 32
    assert list(first).index("session.id") == 3  # right after request_id
    audit.clear()
    client.post("/login/", LOGIN)  # login keeps the session data (cycle_key)
    login_event, http_event = audit.events()
    assert login_event["attributes"]["session.id"] == sid
    assert http_event["attributes"]["session.id"] == sid
    audit.clear()
    client.get("/items/7/")
    assert audit.attrs()["session.id"] == sid
    audit.clear()
    client.post("/logout/")  # the logout event still carries the old id
    logout_event, _ = audit.events()
    assert logout_event["attributes"]["session.id"] == sid
    audit.clear()
    client.get("/items/7/")
    assert audit.attrs()["session.id"] not in (sid, None)


def test_session_id_is_not_the_session_key(client, audit):
    audit.configure({"django": {"emit_session_id": True}})
    response = client.get("/items/7/")
    cookie = response.cookies["sessionid"].value
    assert audit.attrs()["session.id"] != cookie
    assert cookie not in audit.text
