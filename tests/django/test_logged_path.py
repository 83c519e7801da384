"""The logged request's fast path: same lines as the general path, fewer side effects.

`http_attributes` writes the final attribute dict in one pass (the event takes it without
re-ordering), `request_user` skips evaluating a lazy user that can only be anonymous,
and the middleware's own event is stamped in place unless a rule-event consumer holds
it. Each is checked against the general, copying path here.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.test import Client, RequestFactory
from django.utils.encoding import escape_uri_path
from django.utils.functional import SimpleLazyObject

from sec_audit.django import http_events
from sec_audit.django import request as req
from sec_audit.django.events import ATTRIBUTE_ORDER, make_event, ordered
from sec_audit.django.runtime import (
    get_runtime,
    register_rule_event_consumer,
    unregister_rule_event_consumer,
)

pytestmark = pytest.mark.django_db

_POSITION = {key: index for index, key in enumerate(ATTRIBUTE_ORDER)}


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every dict `http_attributes` returns during the test (the same objects)."""
    seen: list[dict[str, Any]] = []
    original = http_events.http_attributes

    def spy(*args: Any) -> dict[str, Any]:
        values = original(*args)
        seen.append(values)
        return values

    monkeypatch.setattr(http_events, "http_attributes", spy)
    return seen


def _assert_final(values: dict[str, Any]) -> None:
    keys = list(values)
    assert keys[:2] == ["event_type", "schema_version"]
    rest = keys[2:]
    assert all(key in _POSITION for key in rest)
    assert rest == sorted(rest, key=_POSITION.__getitem__)
    assert all(v is not None and not (isinstance(v, str) and not v) for v in values.values())
    # What the general path (ordering, dropping, copying) makes of the same values.
    general = make_event(values["event_type"], values["schema_version"], dict(values))
    assert list(general.attributes.items()) == list(values.items())
    assert list(ordered(values)) == [*rest, "event_type", "schema_version"]


def test_http_values_are_final_for_every_kind_of_request(client, audit, user, built):
    audit.configure(
        {
            "core": {
                "log_ok_responses": True,
                "log_request_bodies": True,
                "log_url_query": True,
            },
            "django": {"include_usernames": True, "emit_session_id": True},
        }
    )
    client.get("/items/7/?token=abc&page=2", HTTP_USER_AGENT="ua/1")
    client.get("/redirect/")
    client.post("/status/201/", {"password": "hunter2", "n": 1}, content_type="application/json")
    client.post("/status/400/", "{not json", content_type="application/json")
    client.get("/ok/", HTTP_HOST="attacker.example")
    client.force_login(user)
    client.get("/api/accounts/999/")
    client.get("/unnamed/abc/")
    Client(raise_request_exception=False).get("/boom/")
    assert len(built) == 8
    for values in built:
        _assert_final(values)
    audit.assert_no_secrets()


def test_the_event_takes_the_dict_it_was_given(client, audit, built):
    seen: list[Any] = []
    original = http_events.make_event

    def spy(*args: Any, **kwargs: Any) -> Any:
        event = original(*args, **kwargs)
        seen.append(event)
        return event

    http_events.make_event = spy  # type: ignore[assignment]
    try:
        client.get("/items/7/")
    finally:
        http_events.make_event = original  # type: ignore[assignment]
    (event,) = seen
    (values,) = built
    assert event.attributes is values


def test_error_type_of_a_500_is_the_class_name(audit):
    Client(raise_request_exception=False).get("/boom/")
    assert audit.attrs()["error.type"] == "tests.django.auditapp.views.Boom"


def test_404_from_a_view_exception_has_no_error_type(client, audit):
    client.get("/items/7/")  # the view raises Http404: process_exception sees it
    assert "error.type" not in audit.attrs()


# -- request_user ----------------------------------------------------------------------


def _through_auth(request: Any) -> Any:
    SessionMiddleware(lambda r: None).process_request(request)  # type: ignore[arg-type]
    AuthenticationMiddleware(lambda r: None).process_request(request)  # type: ignore[arg-type]
    return request


def test_anonymous_lazy_user_is_not_evaluated():
    request = _through_auth(RequestFactory().get("/"))
    assert req.request_user(request) is None
    assert not request.session.accessed  # no session access, so no Vary: Cookie
    assert not hasattr(request, "_cached_user")


def test_anonymous_request_gets_no_vary_cookie_from_the_audit(client, audit, settings):
    # Without auditlog's middleware (it reads request.user itself).
    settings.MIDDLEWARE = [
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "sec_audit.django.middleware.AuditMiddleware",
    ]
    response = client.get("/items/7/")
    assert "Cookie" not in response.get("Vary", "")
    attrs = audit.attrs()
    assert "user.id" not in attrs and "user.name" not in attrs


def test_logged_in_user_is_identified(client, audit, user):
    audit.configure({"django": {"include_usernames": True}})
    client.force_login(user)
    audit.clear()
    client.get("/items/7/")
    attrs = audit.attrs()
    assert attrs["user.id"] == str(user.pk)
    assert attrs["user.name"] == "alice"


def test_a_session_cookie_means_the_user_is_looked_up(user):
    client = Client()
    client.force_login(user)
    request = RequestFactory().get("/")
    request.COOKIES.update({k: v.value for k, v in client.cookies.items()})
    _through_auth(request)
    lazy = req.request_user(request)
    assert lazy is request.user
    assert req.user_identity(lazy, False) == (str(user.pk), None)


def test_a_loaded_session_is_not_second_guessed():
    request = _through_auth(RequestFactory().get("/"))
    request.session["_auth_user_id"] = "12345"  # whatever it holds: the stock lookup decides
    assert req.request_user(request) is request.user


def test_an_evaluated_user_is_returned():
    request = _through_auth(RequestFactory().get("/"))
    assert not request.user.is_authenticated
    user = req.request_user(request)
    assert user is request.user and not user.is_authenticated


def test_another_lazy_factory_is_evaluated():
    marker = object()
    request = _through_auth(RequestFactory().get("/"))
    request.user = SimpleLazyObject(lambda: marker)
    assert req.request_user(request) is request.user


def test_a_patched_get_user_is_honoured(monkeypatch: pytest.MonkeyPatch, user):
    from django.contrib.auth import middleware as auth_middleware

    monkeypatch.setattr(auth_middleware, "get_user", lambda request: user)
    request = _through_auth(RequestFactory().get("/"))
    lazy = req.request_user(request)
    assert lazy is request.user
    assert req.user_identity(lazy, False) == (str(user.pk), None)


def test_plain_and_missing_users():
    request = RequestFactory().get("/")
    assert req.request_user(request) is None
    request.user = "someone"
    assert req.request_user(request) == "someone"


# -- request_url -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/items/7/",
        "/a-b_c.d~e/:@&+$,!*'()/",
        "/space here/",
        "/caf\u00e9/",
        "/q%3Fx/",
        '/quote"/<tag>/',
        "/semi;colon=eq/",
        "/tab\t/",
        "/\u2603/",
    ],
)
def test_url_path_is_escaped_exactly_as_django_does(path):
    request = RequestFactory().get("/")
    request.path = path
    url, host = req.request_url(request)
    assert host is None
    assert url == "http://testserver" + escape_uri_path(path)


# -- stamping in place -----------------------------------------------------------------


def test_consumers_get_the_unstamped_event_and_the_record_a_copy(client, audit):
    seen: list[Any] = []
    register_rule_event_consumer(seen.append)
    try:
        client.get("/items/7/")
    finally:
        unregister_rule_event_consumer(seen.append)
    (event,) = seen
    assert event.observed_timestamp_ns is None
    assert audit.one()["observed_timestamp"] > 0


def test_without_consumers_the_record_carries_the_event_itself():
    import logging

    runtime = get_runtime()
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    runtime.logger.addHandler(handler)
    try:
        event = make_event("http.response.client_error", "1.0", {"user.id": "7"})
        assert runtime.record(event, logging.WARNING, owned=True)
        copied = make_event("http.response.client_error", "1.0", {"user.id": "7"})
        assert runtime.record(copied, logging.WARNING)
    finally:
        runtime.logger.removeHandler(handler)
    first, second = records
    assert first.audit_event is event  # type: ignore[attr-defined]
    assert event.observed_timestamp_ns is not None
    assert second.audit_event is not copied  # type: ignore[attr-defined]
    assert copied.observed_timestamp_ns is None
