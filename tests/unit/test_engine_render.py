"""render(): the envelope members, top-level exemptions, compact output."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Make = Callable[..., Any]


def envelope(**attributes: Any) -> dict[str, Any]:
    return {
        "timestamp": 1700000000000000000,
        "observed_timestamp": 1700000000000000001,
        "severity_text": "WARN",
        "severity_number": 13,
        "body": "http.response.client_error",
        "resource": {"service.name": "svc"},
        "instrumentation_scope": {"name": "sec_audit.django", "version": "0.2.0"},
        "attributes": attributes,
        "event_name": "http.response.client_error",
    }


def test_full_envelope_default_and_compact(make_engine: Make) -> None:
    engine = make_engine()
    env = envelope(event_type="http.response.client_error", password="x")
    assert engine.render(env) == (
        '{"timestamp": 1700000000000000000, "observed_timestamp": 1700000000000000001, '
        '"severity_text": "WARN", "severity_number": 13, "body": "http.response.client_error", '
        '"resource": {"service.name": "svc"}, '
        '"instrumentation_scope": {"name": "sec_audit.django", "version": "0.2.0"}, '
        '"attributes": {"event_type": "http.response.client_error", "password": "[REDACTED]"}, '
        '"event_name": "http.response.client_error"}'
    )
    compact = engine.render(env, compact=True)
    assert compact.startswith('{"timestamp":1700000000000000000,"observed_timestamp":')
    assert (
        '"attributes":{"event_type":"http.response.client_error","password":"[REDACTED]"}'
        in compact
    )


def test_key_exempt_attributes_are_never_key_redacted(make_engine: Make) -> None:
    engine = make_engine(
        core={
            "sensitive_keys": ["session", "url", "request", "source", "method", "event", "schema"]
        }
    )
    attrs = {
        "event_type": "e",
        "schema_version": "1.0",
        "request_id": "r",
        "session.id": "s",
        "source.address": "1.2.3.4",
        "url.full": "http://x/",
        "url.path": "/",
        "http.request.method": "GET",
        "action.method": "POST",
        "session.other": "gone",
        "nested": {"session.id": "gone"},
    }
    line = engine.render({"attributes": attrs}, compact=True)
    assert line == (
        '{"attributes":{"event_type":"e","schema_version":"1.0","request_id":"r","session.id":"s",'
        '"source.address":"1.2.3.4","url.full":"http://x/","url.path":"/",'
        '"http.request.method":"GET","action.method":"POST","session.other":"[REDACTED]",'
        '"nested":{"session.id":"[REDACTED]"}}}'
    )


def test_value_exempt_attributes_skip_patterns_but_are_truncated(make_engine: Make) -> None:
    engine = make_engine(
        core={"sensitive_value_patterns": ["abc"]}, limits={"max_string_length": 14}
    )
    attrs = {
        "event_type": "abc",
        "schema_version": "abc",
        "request_id": "abcdefghijklmnopq",
        "session.id": ["abc", {"password": 1}],
        "source.address": "abc",
        "url.full": "abc",
        "other": "abc",
    }
    assert engine.render({"attributes": attrs}, compact=True) == (
        '{"attributes":{"event_type":"abc","schema_version":"abc","request_id":"abcdefghijklmn[TRUNCATED]",'
        '"session.id":["abc",{"password":"[REDACTED]"}],"source.address":"abc",'
        '"url.full":"[REDACTED]","other":"[REDACTED]"}}'
    )


def test_body_member_gets_the_string_rule(make_engine: Make) -> None:
    engine = make_engine(
        core={"sensitive_value_patterns": ["tok"]}, limits={"max_string_length": 3, "max_depth": 1}
    )
    assert engine.render({"body": "a tok"}) == '{"body": "[REDACTED]"}'
    assert engine.render({"body": "abcdef"}) == '{"body": "abc[TRUNCATED]"}'


def test_non_str_body_is_projected_as_an_attribute_value(make_engine: Make) -> None:
    engine = make_engine()
    assert engine.render({"body": {"password": 1, "n": [1]}}, compact=True) == (
        '{"body":{"password":"[REDACTED]","n":[1]}}'
    )


def test_own_members_are_verbatim_and_not_scrubbed(make_engine: Make) -> None:
    engine = make_engine(core={"sensitive_value_patterns": ["svc"]}, limits={"max_depth": 2})
    env = {"resource": {"password": "svc", "deep": {"x": {"y": 1}}}, "trace_id": "svc"}
    assert engine.render(env, compact=True) == (
        '{"resource":{"password":"svc","deep":{"x":{"y":1}}},"trace_id":"svc"}'
    )


ALL_AT_ONE = {
    "max_depth": 1,
    "max_mapping_entries": 1,
    "max_sequence_length": 1,
    "max_string_length": 1,
    "max_attributes": 1,
}


def test_own_members_ignore_every_limit_at_one(make_engine: Make) -> None:
    engine = make_engine(limits=ALL_AT_ONE)
    env = envelope(event_type="http.response.client_error", password="x")
    env["resource"] = {"service.name": "shop", "deployment.environment": "prod"}
    assert engine.render(env, compact=True) == (
        '{"timestamp":1700000000000000000,"observed_timestamp":1700000000000000001,'
        '"severity_text":"WARN","severity_number":13,"body":"h[TRUNCATED]",'
        '"resource":{"service.name":"shop","deployment.environment":"prod"},'
        '"instrumentation_scope":{"name":"sec_audit.django","version":"0.2.0"},'
        '"attributes":{"e[TRUNCATED]":"[TRUNCATED]","_truncated":"[TRUNCATED]"},'
        '"event_name":"http.response.client_error"}'
    )


def test_own_members_keep_long_strings_keys_and_containers(make_engine: Make) -> None:
    engine = make_engine(limits={"max_string_length": 5, "max_depth": 1})
    long_key = "deployment.environment"
    env = {
        "severity_text": "WARNING",
        "resource": {long_key: "production", "tags": ["a", "bb", "ccc", {"k": ["v"]}]},
        "trace_id": "0123456789abcdef0123456789abcdef",
    }
    assert engine.render(env, compact=True) == (
        '{"severity_text":"WARNING","resource":{"deployment.environment":"production",'
        '"tags":["a","bb","ccc",{"k":["v"]}]},"trace_id":"0123456789abcdef0123456789abcdef"}'
    )


def test_own_members_keep_safety_rules(make_engine: Make) -> None:
    import datetime

    engine = make_engine(
        core={"sensitive_keys": ["name"], "secret_detectors": "recommended"},
        limits=ALL_AT_ONE,
    )
    resource: dict[str, Any] = {"service.name": "AKIAABCDEFGHIJKLMNOP", "raw": b"\x00"}
    resource["self"] = resource
    resource["when"] = datetime.date(2024, 1, 2)
    resource["tags"] = {"a"}
    resource["obj"] = object()
    assert engine.render({"resource": resource}, compact=True) == (
        '{"resource":{"service.name":"AKIAABCDEFGHIJKLMNOP","raw":"[REDACTED]",'
        '"self":"[REDACTED]","when":"2024-01-02","tags":"<unserializable:builtins.set>",'
        '"obj":"<unserializable:builtins.object>"}}'
    )


def test_attributes_cap_is_max_attributes_not_mapping_entries(make_engine: Make) -> None:
    engine = make_engine(limits={"max_attributes": 3, "max_mapping_entries": 1})
    attrs = {"a": 1, "b": {"x": 1, "y": 2}, "c": 3, "d": 4}
    assert engine.render({"attributes": attrs}, compact=True) == (
        '{"attributes":{"a":1,"b":{"x":1,"_truncated":"[TRUNCATED]"},"c":3,"_truncated":"[TRUNCATED]"}}'
    )


def test_project_has_no_key_exemptions(make_engine: Make) -> None:
    assert make_engine().project({"session.id": "s"}, compact=True) == '{"session.id":"[REDACTED]"}'


def test_nested_body_fragment_is_an_ordinary_object(make_engine: Make) -> None:
    from sec_audit.core.engine import BodyFragment

    engine = make_engine()
    assert engine.project({"x": BodyFragment("{}")}, compact=True) == (
        '{"x":"<unserializable:sec_audit.core.engine.fragment.BodyFragment>"}'
    )
    assert engine.project(BodyFragment('{"a": 1}'), compact=True) == '{"a":1}'
    assert engine.render({"attributes": {"b": BodyFragment('{"a": 1}')}}, compact=True) == (
        '{"attributes":{"b":{"a":1}}}'
    )


def test_name_and_config(make_engine: Make) -> None:
    engine = make_engine(core={"sensitive_keys": ["API_KEY", "-", ""]})
    assert engine.name in ("python", "native")
    assert engine.config.sensitive_keys == ("apikey",)
