"""Request body capture (how-to-use section 3, D1) and hostile bodies."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.django_db

CAPTURE = {"core": {"log_request_bodies": True, "log_ok_responses": True}}


def _post(client, path, body, content_type="application/json", **extra):
    return client.generic("POST", path, body, content_type=content_type, **extra)


def test_d1_body_captured_without_allowlist(client, audit):
    audit.configure(CAPTURE)
    payload = {
        "amount": 10,
        "password": "hunter2",
        "nested": {"api_key": "s3cr3t-value", "ok": [1, 2]},
    }
    response = _post(client, "/echo-json/", json.dumps(payload))
    assert response.status_code == 201
    assert response.json() == {"keys": ["amount", "nested", "password"]}  # the view read it
    attrs = audit.attrs()
    assert attrs["request.body"] == {
        "amount": 10,
        "password": "[REDACTED]",
        "nested": {"api_key": "[REDACTED]", "ok": [1, 2]},
    }
    assert "request.body.parse_status" not in attrs
    assert list(attrs).index("request.body") < list(attrs).index("outcome")
    audit.assert_no_secrets()


def test_body_off_by_default(client, audit):
    audit.configure({"core": {"log_ok_responses": True}})
    _post(client, "/echo-json/", json.dumps({"password": "hunter2"}))
    assert "request.body" not in audit.attrs()
    audit.assert_no_secrets()


def test_body_field_allowlist_narrows(client, audit):
    audit.configure({"core": {**CAPTURE["core"], "body_field_allowlist": ["amount", "password"]}})
    _post(client, "/echo-json/", json.dumps({"amount": 1, "password": "hunter2", "memo": "x"}))
    assert audit.attrs()["request.body"] == {"amount": 1, "password": "[REDACTED]"}


def test_log_body_paths_restricts(client, audit):
    audit.configure({"core": {**CAPTURE["core"], "log_body_paths": [r"^/echo/"]}})
    _post(client, "/echo-json/", json.dumps({"a": 1}))
    _post(client, "/echo/", json.dumps({"a": 2}))
    first, second = audit.events()
    assert "request.body" not in first["attributes"]
    assert second["attributes"]["request.body"] == {"a": 2}


def test_body_methods(client, audit):
    audit.configure({"core": {**CAPTURE["core"], "body_methods": ["PUT"]}})
    _post(client, "/echo/", json.dumps({"a": 1}))
    client.put("/echo/", json.dumps({"a": 2}), content_type="application/json")
    first, second = audit.events()
    assert "request.body" not in first["attributes"]
    assert second["attributes"]["request.body"] == {"a": 2}


def test_body_captured_on_errors_without_log_ok(client, audit):
    audit.configure({"core": {"log_request_bodies": True}})
    _post(client, "/status/400/", json.dumps({"token": "tok-123-secret", "n": 1}))
    assert audit.attrs()["request.body"] == {"token": "[REDACTED]", "n": 1}
    audit.assert_no_secrets()


def test_vendor_json_media_type(client, audit):
    audit.configure(CAPTURE)
    _post(
        client,
        "/echo/",
        json.dumps({"a": 1}),
        content_type="application/vnd.api+json; charset=utf-8",
    )
    assert audit.attrs()["request.body"] == {"a": 1}


@pytest.mark.parametrize(
    "content_type",
    [
        "text/json",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ],
)
def test_non_json_bodies_are_not_captured(client, audit, content_type):
    audit.configure(CAPTURE)
    _post(client, "/echo/", '{"password": "hunter2"}', content_type=content_type)
    attrs = audit.attrs()
    assert "request.body" not in attrs and "request.body.parse_status" not in attrs
    audit.assert_no_secrets()


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", "invalid_json"),
        (b"\xff\xfe{\x00}", "invalid_json"),
        ('{"a": "\u00e9"}'.encode("utf-16"), "invalid_json"),
        (b"\xef\xbb\xbf{}", "invalid_json"),
        (b"[1, 2, 3]", "unsupported_shape"),
        (b'"password"', "unsupported_shape"),
        (b"[" * 300 + b"]" * 300, "too_deep"),
    ],
    ids=["malformed", "binary", "utf16", "bom", "list", "string", "deep"],
)
def test_bad_bodies_report_a_parse_status(client, audit, body, status):
    audit.configure(CAPTURE)
    response = _post(client, "/echo/", body)
    assert response.content == body  # the view got the bytes untouched
    (line,) = audit.lines()
    attrs = json.loads(line)["attributes"]
    assert attrs["request.body.parse_status"] == status
    assert "request.body" not in attrs


@pytest.mark.parametrize("body", [b"", b"{}"], ids=["empty", "empty-object"])
def test_empty_bodies_add_nothing(client, audit, body):
    audit.configure(CAPTURE)
    _post(client, "/echo/", body)
    attrs = audit.attrs()
    assert "request.body" not in attrs and "request.body.parse_status" not in attrs


def test_too_large_by_content_length_is_not_read(client, audit):
    audit.configure({"core": {**CAPTURE["core"], "max_body_bytes": 64}})
    body = json.dumps({"password": "hunter2", "pad": "x" * 100})
    response = _post(client, "/echo/", body)
    assert response.content == body.encode()
    assert audit.attrs()["request.body.parse_status"] == "too_large"
    audit.assert_no_secrets()


def test_huge_body_is_bounded(client, audit):
    audit.configure({"core": {**CAPTURE["core"], "max_body_bytes": 1_000_000}})
    payload = {"items": list(range(5000)), "text": "y" * 20000, "password": "hunter2"}
    _post(client, "/echo/", json.dumps(payload))
    body = audit.attrs()["request.body"]
    assert len(body["items"]) == 101 and body["items"][-1] == "[TRUNCATED]"
    assert body["text"] == "y" * 4096 + "[TRUNCATED]"
    audit.assert_no_secrets()


def test_body_detectors_and_lone_surrogates(client, audit):
    audit.configure(CAPTURE)
    _post(
        client,
        "/echo/",
        b'{"note": "key AKIAIOSFODNN7EXAMPLE", "s": "\\ud800", "dup": 1, "dup": 2}',
    )
    body = audit.attrs()["request.body"]
    assert body == {"note": "[REDACTED]", "s": "\ud800", "dup": 2}
    audit.assert_no_secrets()


def test_view_reading_the_raw_stream_still_works(client, audit):
    audit.configure(CAPTURE)
    response = _post(client, "/read-stream/", json.dumps({"a": 1}))
    assert response.content == b'{"a": 1}'
    assert audit.attrs()["request.body"] == {"a": 1}


def test_unlogged_request_reads_no_more_than_needed(client, audit):
    # Body capture on, 2xx not logged: the view still gets its body, nothing is written.
    audit.configure({"core": {"log_request_bodies": True}})
    response = _post(client, "/echo/", json.dumps({"password": "hunter2"}))
    assert response.status_code == 201
    assert audit.lines() == []


def test_bad_content_length_is_skipped(client, audit):
    audit.configure(CAPTURE)
    _post(client, "/status/200/", b'{"a": 1}', CONTENT_LENGTH="abc")
    attrs = audit.attrs()
    assert "request.body" not in attrs and "request.body.parse_status" not in attrs
