"""HTTP events through the real middleware stack and Django's test Client."""

from __future__ import annotations

import json

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

HTTP_404_KEYS = [
    "event_type",
    "schema_version",
    "request_id",
    "source.address",
    "http.request.method",
    "http.response.status_code",
    "url.full",
    "url.path",
    "http.route",
    "http.route_name",
    "user.id",
    "user.name",
    "action.name",
    "action.method",
    "action.result",
    "outcome",
    "duration_ns",
]


def test_404_line_matches_the_original_shape(client, audit, user):
    # The observed line of original-behaviour 2.3 (include_usernames on, logged in).
    audit.configure({"core": {"source": "myapp"}, "django": {"include_usernames": True}})
    client.force_login(user)
    audit.clear()
    response = client.get("/items/7/")
    assert response.status_code == 404
    (line,) = audit.lines()
    assert line.startswith('{"timestamp": ')
    event = json.loads(line)
    assert list(event) == [
        "timestamp",
        "observed_timestamp",
        "severity_text",
        "severity_number",
        "body",
        "resource",
        "instrumentation_scope",
        "attributes",
        "event_name",
    ]
    assert event["severity_text"] == "WARNING"
    assert event["severity_number"] == 13
    assert event["body"] == "http.response"
    assert event["resource"] == {"service.name": "myapp"}
    assert event["instrumentation_scope"] == {"name": "sec_audit.django", "version": "0.2.0"}
    assert event["event_name"] == "http.response.client_error"
    attrs = event["attributes"]
    assert list(attrs) == HTTP_404_KEYS
    assert attrs["event_type"] == "http.response.client_error"
    assert attrs["schema_version"] == "1.0"
    assert len(attrs["request_id"]) == 32
    int(attrs["request_id"], 16)
    assert attrs["source.address"] == "127.0.0.1"
    assert attrs["http.response.status_code"] == 404
    assert attrs["url.full"] == "http://testserver/items/7/"
    assert attrs["url.path"] == "/items/7/"
    assert attrs["http.route"] == "/items/<int:pk>/"
    assert attrs["http.route_name"] == "item-detail"
    assert attrs["user.id"] == str(user.pk)
    assert attrs["user.name"] == "alice"
    assert (attrs["action.name"], attrs["action.method"]) == ("response", "GET")
    assert attrs["action.result"] == attrs["outcome"] == "failure"
    assert isinstance(attrs["duration_ns"], int) and attrs["duration_ns"] > 0
    assert event["timestamp"] <= event["observed_timestamp"]


def test_compact_formatter_kwarg(client, audit):
    audit.configure({}, compact=True)
    client.get("/items/7/")
    (line,) = audit.lines()
    assert line.startswith('{"timestamp":') and ", " not in line.split('"attributes"')[0]


def test_unlogged_2xx_writes_nothing_by_default(client, audit):
    response = client.get("/ok/")
    assert response.content == b"ok-body"
    assert audit.lines() == []


def test_unresolved_404_has_no_route(client, audit):
    client.get("/nowhere/")
    attrs = audit.attrs()
    assert "http.route" not in attrs and "http.route_name" not in attrs
    assert attrs["url.path"] == "/nowhere/"


def test_unnamed_route_gets_dotted_view_name(client, audit):
    audit.configure({"core": {"log_ok_responses": True}})
    client.get("/unnamed/abc/")
    attrs = audit.attrs()
    assert attrs["http.route"] == "/^unnamed/(?P<slug>[a-z]+)/$"
    assert attrs["http.route_name"] == "tests.django.auditapp.views.slugged"


@pytest.mark.parametrize(
    ("code", "event_type", "severity", "outcome"),
    [
        (200, "http.response.success", "INFO", "success"),
        (101, "http.response.success", "INFO", "success"),
        (302, "http.response.redirect", "INFO", None),
        (403, "http.response.client_error", "WARNING", "failure"),
        (503, "http.response.server_error", "ERROR", "failure"),
    ],
)
def test_status_classes(client, audit, code, event_type, severity, outcome):
    audit.configure({"core": {"log_ok_responses": True}})
    response = client.get(f"/status/{code}/")
    assert response.status_code == code
    event = audit.one()
    assert event["attributes"]["event_type"] == event_type
    assert event["severity_text"] == severity
    assert event["attributes"].get("outcome") == outcome
    assert event["attributes"].get("action.result") == outcome


def test_redirect_is_gated_by_log_ok_responses(client, audit):
    client.get("/redirect/")
    assert audit.lines() == []
    audit.configure({"core": {"log_ok_responses": True}})
    client.get("/redirect/")
    assert audit.attrs()["event_type"] == "http.response.redirect"


def test_sample_rate_zero_never_logs_ok_but_always_errors(client, audit):
    audit.configure({"core": {"log_ok_responses": True, "sample_rate": 0.0}})
    for _ in range(20):
        client.get("/ok/")
    assert audit.lines() == []
    client.get("/status/500/")
    client.get("/status/404/")
    assert audit.types() == ["http.response.server_error", "http.response.client_error"]


def test_sample_rate_one_logs_every_ok(client, audit):
    audit.configure({"core": {"log_ok_responses": True, "sample_rate": 1.0}})
    for _ in range(5):
        client.get("/ok/")
    assert audit.types() == ["http.response.success"] * 5


def test_sample_rate_fraction_uses_the_original_gate(client, audit, monkeypatch):
    import random

    audit.configure({"core": {"log_ok_responses": True, "sample_rate": 0.5}})
    monkeypatch.setattr(random, "random", lambda: 0.5)  # strict `<`: 0.5 is not < 0.5
    client.get("/ok/")
    assert audit.lines() == []
    monkeypatch.setattr(random, "random", lambda: 0.49)
    client.get("/ok/")
    assert len(audit.lines()) == 1


def test_ignore_paths_pass_through_untouched(client, audit):
    audit.configure({"core": {"ignore_paths": [r"^/health/", r"/status/4"]}})
    assert client.get("/health/").content == b"ok-body"
    client.get("/status/404/")
    client.get("/status/500/")
    assert audit.types() == ["http.response.server_error"]


def test_ignore_status_codes_apply_to_errors_too(client, audit):
    audit.configure({"core": {"log_ok_responses": True, "ignore_status_codes": {404, 302}}})
    client.get("/items/7/")
    client.get("/redirect/")
    client.get("/status/500/")
    assert audit.types() == ["http.response.server_error"]


def test_view_exception_is_a_500_with_error_type(audit):
    client = Client(raise_request_exception=False)
    response = client.get("/boom/")
    assert response.status_code == 500
    attrs = audit.attrs()
    assert attrs["event_type"] == "http.response.server_error"
    assert attrs["error.type"] == "tests.django.auditapp.views.Boom"
    assert "secret detail" not in audit.text  # the message is never written


def test_view_exception_propagates_as_django_does(client, audit):
    from tests.django.auditapp.views import Boom

    with pytest.raises(Boom):
        client.get("/boom/")
    assert audit.attrs()["http.response.status_code"] == 500


def test_error_type_only_on_500(client, audit):
    client.get("/items/7/")  # Http404 goes through process_exception too
    assert "error.type" not in audit.attrs()


def test_user_agent_is_bounded(client, audit):
    client.get("/items/7/", HTTP_USER_AGENT="A" * 2000)
    agent = audit.attrs()["user_agent.original"]
    assert agent == "A" * 512 + "[TRUNCATED]"


def test_url_query_off_by_default(client, audit):
    client.get("/items/7/?password=hunter2&q=1")
    assert "url.query" not in audit.attrs()
    audit.assert_no_secrets()


def test_url_query_redacts_sensitive_parameters(client, audit):
    audit.configure({"core": {"log_url_query": True}})
    client.get("/items/7/?q=shoes&password=hunter2&API-Key=s3cr3t-value&page=2&flag")
    attrs = audit.attrs()
    assert attrs["url.query"] == "q=shoes&password=[REDACTED]&API-Key=[REDACTED]&page=2&flag"
    assert attrs["url.full"] == "http://testserver/items/7/"
    audit.assert_no_secrets()


def test_url_query_keys_match_like_body_keys(client, audit):
    # Folding (fullwidth, Cyrillic look-alike) and the recommended key set's whole
    # tokens apply to query keys exactly as to body keys; ordinary words stay visible.
    query = (
        "%EF%BD%90%EF%BD%81%EF%BD%93%EF%BD%93%EF%BD%97%EF%BD%8F%EF%BD%92%EF%BD%84=a1"
        "&p%D0%B0ssword=a2&card_pin=a3&pinCode=a4&otp=a5&shipping=ok&author=ok&compass=ok"
    )
    audit.configure({"core": {"log_url_query": True}})
    client.get(f"/items/7/?{query}")
    assert audit.attrs()["url.query"] == (
        "%EF%BD%90%EF%BD%81%EF%BD%93%EF%BD%93%EF%BD%97%EF%BD%8F%EF%BD%92%EF%BD%84=[REDACTED]"
        "&p%D0%B0ssword=[REDACTED]&card_pin=[REDACTED]&pinCode=[REDACTED]&otp=[REDACTED]"
        "&shipping=ok&author=ok&compass=ok"
    )
    audit.configure({"core": {"log_url_query": True, "sensitive_key_sets": ()}})
    client.get("/items/7/?card_pin=a3&otp=a5&password=a1")
    assert audit.attrs()["url.query"] == "card_pin=a3&otp=a5&password=[REDACTED]"
    audit.configure({"core": {"log_url_query": True, "sensitive_key_allowlist": ["card_pin"]}})
    client.get("/items/7/?card_pin=a3&otp=a5")
    assert audit.attrs()["url.query"] == "card_pin=a3&otp=[REDACTED]"


def test_url_query_value_patterns_and_detectors_apply(client, audit):
    audit.configure({"core": {"log_url_query": True}})
    client.get("/items/7/?key_id=AKIAIOSFODNN7EXAMPLE")
    assert audit.attrs()["url.query"] == "[REDACTED]"
    audit.assert_no_secrets()


def test_b5_script_name_is_kept(client, audit):
    client.get("/items/7/", SCRIPT_NAME="/app")
    attrs = audit.attrs()
    assert attrs["url.full"] == "http://testserver/app/items/7/"
    assert attrs["url.path"] == "/app/items/7/"
    assert attrs["http.route"] == "/items/<int:pk>/"


def test_b5_encoded_question_mark_does_not_cut(client, audit):
    client.get("/nope/a%3Fb/%C3%A9/")
    attrs = audit.attrs()
    assert attrs["url.full"] == "http://testserver/nope/a%3Fb/%C3%A9/"
    assert attrs["url.path"] == "/nope/a?b/\u00e9/"


def test_b4_disallowed_host_is_audited(audit):
    client = Client(raise_request_exception=False)
    host = "evil.example:80\r\nX-Injected: 1" + "h" * 400
    response = client.get("/absolute/", HTTP_HOST=host)
    assert response.status_code == 400  # Django's answer to DisallowedHost
    (line,) = audit.lines()
    attrs = json.loads(line)["attributes"]
    assert attrs["http.response.status_code"] == 400
    assert "url.full" not in attrs
    assert attrs["url.path"] == "/absolute/"
    assert attrs["http.request.header.host"] == host[:256] + "[TRUNCATED]"
    assert "\r" not in line and "\n" not in line


def test_b4_disallowed_host_on_a_view_that_ignores_it(client, audit):
    audit.configure({"core": {"log_ok_responses": True}})
    response = client.get("/ok/", HTTP_HOST="attacker.example")
    assert response.content == b"ok-body"
    attrs = audit.attrs()
    assert "url.full" not in attrs
    assert attrs["http.request.header.host"] == "attacker.example"


def test_allowed_host_has_no_raw_host_attribute(client, audit):
    client.get("/items/7/", HTTP_HOST="example.test")
    attrs = audit.attrs()
    assert attrs["url.full"] == "http://example.test/items/7/"
    assert "http.request.header.host" not in attrs


def test_spoofed_forwarded_for_is_ignored_without_trusted_proxies(client, audit):
    client.get("/items/7/", HTTP_X_FORWARDED_FOR="6.6.6.6", REMOTE_ADDR="203.0.113.9")
    assert audit.attrs()["source.address"] == "203.0.113.9"


def test_trusted_proxy_count_takes_the_nth_from_the_right(client, audit):
    audit.configure({"django": {"trusted_proxy_cidrs": ["10.0.0.0/8"], "trusted_proxy_count": 2}})
    client.get(
        "/items/7/", HTTP_X_FORWARDED_FOR="6.6.6.6, 8.8.8.8, 10.0.0.2", REMOTE_ADDR="10.0.0.3"
    )
    assert audit.attrs()["source.address"] == "8.8.8.8"


def test_d5_trusted_cidrs_without_count_walk_from_the_right(client, audit):
    audit.configure({"django": {"trusted_proxy_cidrs": ["10.0.0.0/8"]}})
    client.get(
        "/items/7/", HTTP_X_FORWARDED_FOR="6.6.6.6, 8.8.8.8, 10.0.0.2", REMOTE_ADDR="10.0.0.3"
    )
    assert audit.attrs()["source.address"] == "8.8.8.8"


def test_spoofed_forwarded_for_from_an_untrusted_peer(client, audit):
    audit.configure({"django": {"trusted_proxy_cidrs": ["10.0.0.0/8"]}})
    client.get("/items/7/", HTTP_X_FORWARDED_FOR="10.0.0.7", REMOTE_ADDR="198.51.100.4")
    assert audit.attrs()["source.address"] == "198.51.100.4"


def test_garbage_remote_addr_omits_the_address(client, audit):
    client.get("/items/7/", REMOTE_ADDR="not-an-ip")
    assert "source.address" not in audit.attrs()


def test_streaming_response_is_logged_and_untouched(client, audit):
    audit.configure({"core": {"log_ok_responses": True}})
    response = client.get("/stream/")
    assert b"".join(response.streaming_content) == b"ab"
    assert audit.attrs()["event_type"] == "http.response.success"
    response = client.get("/stream-404/")
    assert b"".join(response.streaming_content) == b"gone"
    assert audit.types() == ["http.response.success", "http.response.client_error"]


@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume")
def test_async_iterator_streaming_under_wsgi(client, audit):
    response = client.get("/async/stream/")
    assert b"".join(response) == b"xy"
    assert audit.attrs()["http.response.status_code"] == 500


@pytest.mark.parametrize(
    "path",
    ["/a%0D%0Ab/", "/x%FF%FE/", "/%00/", "/\u202e/", "/" + "z" * 10000 + "/"],
    ids=["crlf", "non-utf8", "nul", "bidi", "huge"],
)
def test_hostile_paths_give_one_valid_line(client, audit, path):
    response = client.get(path)
    assert response.status_code == 404
    (line,) = audit.lines()
    attrs = json.loads(line)["attributes"]
    assert attrs["http.response.status_code"] == 404
    assert len(line) < 20000


def test_crlf_path_is_escaped_not_split(client, audit):
    client.get("/a%0D%0Ab/")
    attrs = audit.attrs()
    assert attrs["url.path"] == "/a\r\nb/"
    assert attrs["url.full"] == "http://testserver/a%0D%0Ab/"


@pytest.mark.parametrize(
    "agent",
    ['evil\r\n{"event_type": "forged"}', "\xff\xfe\x00bin", "\u00e9" * 600],
    ids=["crlf", "binary", "non-ascii"],
)
def test_hostile_headers_give_one_valid_line(client, audit, agent):
    client.get("/items/7/", HTTP_USER_AGENT=agent, HTTP_X_FORWARDED_FOR=agent, HTTP_REFERER=agent)
    (line,) = audit.lines()
    attrs = json.loads(line)["attributes"]
    assert attrs["event_type"] == "http.response.client_error"
    assert attrs["user_agent.original"] == agent[:512] + ("[TRUNCATED]" if len(agent) > 512 else "")


def test_secret_in_path_is_scrubbed_by_detectors(client, audit):
    client.get("/keys/AKIAIOSFODNN7EXAMPLE/")
    attrs = audit.attrs()
    assert attrs["url.path"] == "[REDACTED]"
    assert attrs["url.full"] == "[REDACTED]"
    audit.assert_no_secrets()


def test_value_patterns_from_settings_apply_to_urls(client, audit):
    audit.configure({"core": {"sensitive_value_patterns": [r"tok-\d+"]}})
    client.get("/items/tok-123-secret/")
    attrs = audit.attrs()
    assert attrs["url.path"] == "[REDACTED]"
    audit.assert_no_secrets()


def test_b1_internal_fields_are_never_key_redacted(client, audit):
    # `sensitive_keys` containing 'url', 'path', 'method', 'address', 'id' must not hide
    # our own fields (fix B1).
    audit.configure({"core": {"sensitive_keys": ["url", "path", "method", "address", "id"]}})
    client.get("/items/7/")
    attrs = audit.attrs()
    assert attrs["url.full"] == "http://testserver/items/7/"
    assert attrs["url.path"] == "/items/7/"
    assert attrs["http.request.method"] == "GET"
    assert attrs["source.address"] == "127.0.0.1"
    assert len(attrs["request_id"]) == 32


def test_each_request_gets_its_own_request_id(client, audit):
    client.get("/items/7/")
    client.get("/items/8/")
    first, second = audit.events()
    assert first["attributes"]["request_id"] != second["attributes"]["request_id"]


def test_head_and_options_methods(client, audit):
    client.head("/items/7/")
    client.options("/items/7/")
    methods = [e["attributes"]["http.request.method"] for e in audit.events()]
    assert methods == ["HEAD", "OPTIONS"]
