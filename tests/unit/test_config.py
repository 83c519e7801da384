"""SEC_AUDIT parsing: every key's default, a valid value, and every wrong type/value."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from ipaddress import ip_network
from typing import Any

import pytest

from sec_audit.core.config import (
    DEFAULT_SENSITIVE_KEYS,
    DETECTOR_NAMES,
    CoreAuditConfig,
    DjangoAuditConfig,
    LoggingAuditConfig,
    ProjectionLimits,
    SecAuditSettings,
)
from sec_audit.core.errors import AuditConfigurationError


def parse(section: str, key: str, value: object) -> Any:
    settings = SecAuditSettings.from_value({section: {key: value}})
    return getattr(getattr(settings, section), key)


def parse_error(settings: object) -> str:
    with pytest.raises(AuditConfigurationError) as info:
        SecAuditSettings.from_value(settings)
    return str(info.value)


def patterns(value: tuple[re.Pattern[str], ...]) -> list[str]:
    return [p.pattern for p in value]


def enrich_fn(event: object, level: int) -> tuple[object, int]:
    return event, level


class FilterObject:
    def filter(self, event: object) -> bool:
        return True


FILTER_OBJECT = FilterObject()

# --- defaults ----------------------------------------------------------------------

DEFAULTS: list[tuple[str, str, object]] = [
    ("core", "source", "sec-audit"),
    ("core", "ignore_paths", ()),
    ("core", "ignore_status_codes", frozenset()),
    ("core", "sample_rate", 1.0),
    ("core", "log_ok_responses", False),
    ("core", "log_request_bodies", False),
    ("core", "log_body_paths", ()),
    ("core", "body_methods", frozenset({"POST", "PUT", "PATCH"})),
    ("core", "max_body_bytes", 4096),
    ("core", "body_field_allowlist", ()),
    ("core", "sensitive_keys", DEFAULT_SENSITIVE_KEYS),
    ("core", "sensitive_key_allowlist", ()),
    ("core", "sensitive_value_patterns", ()),
    ("core", "secret_detectors", DETECTOR_NAMES),
    ("core", "sensitive_key_sets", ("recommended",)),
    ("core", "value_scrub_mode", "value"),
    ("core", "log_url_query", False),
    ("logging", "schema_version", "1.0"),
    ("logging", "projection_limits", ProjectionLimits()),
    ("logging", "integrity", None),
    ("django", "include_usernames", False),
    ("django", "emit_session_id", False),
    ("django", "drf_enabled", None),
    ("django", "model_events_enabled", None),
    ("django", "trusted_proxy_cidrs", ()),
    ("django", "trusted_proxy_count", None),
    ("django", "filters", ()),
    ("django", "enrichers", ()),
    ("django", "trusted_proxy_networks", ()),
]


@pytest.mark.parametrize(("section", "key", "expected"), DEFAULTS)
def test_default(section: str, key: str, expected: object) -> None:
    for settings in (
        SecAuditSettings.from_value(None),
        SecAuditSettings.from_value({}),
        SecAuditSettings.from_value({section: None}),
        SecAuditSettings.from_value({section: {}}),
        SecAuditSettings(),
    ):
        value = getattr(getattr(settings, section), key)
        assert value == expected
        assert type(value) is type(expected)


def test_every_field_has_a_default_test() -> None:
    covered = {(s, k) for s, k, _ in DEFAULTS}
    for section, cls in (
        ("core", CoreAuditConfig),
        ("logging", LoggingAuditConfig),
        ("django", DjangoAuditConfig),
    ):
        assert {(section, f.name) for f in dataclasses.fields(cls)} <= covered


def test_default_sensitive_keys_are_the_originals() -> None:
    assert DEFAULT_SENSITIVE_KEYS == (
        "password",
        "passwd",
        "pwd",
        "passcode",
        "secret",
        "token",
        "apikey",
        "authorization",
        "bearer",
        "jwt",
        "cookie",
        "sessionid",
        "csrf",
        "creditcard",
        "ssn",
    )


def test_detector_catalogue_order() -> None:
    assert DETECTOR_NAMES == (
        "aws_access_key_id",
        "github_token",
        "gitlab_token",
        "slack_token",
        "stripe_key",
        "google_api_key",
        "jwt",
        "private_key_block",
        "http_credentials",
        "payment_card",
        "aws_secret_access_key",
        "url_password",
        "slack_webhook",
        "us_ssn",
        "twilio_key",
        "sendgrid_key",
        "mailgun_key",
        "npm_token",
        "pypi_token",
        "docker_hub_token",
        "openai_key",
        "anthropic_key",
        "azure_storage_key",
        "discord_webhook",
        "shopify_token",
        "square_token",
        "heroku_key",
        "vault_token",
    )


# --- valid non-default values ------------------------------------------------------

VALID: list[tuple[str, str, object, Callable[[Any], object], object]] = [
    ("core", "source", "myapp", str, "myapp"),
    ("core", "source", "x" * 256, len, 256),
    (
        "core",
        "ignore_paths",
        ["^/health", re.compile(r"\.png$")],
        patterns,
        ["^/health", r"\.png$"],
    ),
    ("core", "ignore_paths", ("^/a",), patterns, ["^/a"]),
    ("core", "ignore_status_codes", [404, 100, 599, 404], sorted, [100, 404, 599]),
    ("core", "ignore_status_codes", {401}, sorted, [401]),
    ("core", "sample_rate", 0.25, float, 0.25),
    ("core", "sample_rate", 0, repr, "0.0"),
    ("core", "sample_rate", 1, repr, "1.0"),
    ("core", "log_ok_responses", True, bool, True),
    ("core", "log_request_bodies", True, bool, True),
    ("core", "log_body_paths", ["^/api/"], patterns, ["^/api/"]),
    (
        "core",
        "body_methods",
        ["post", "Delete", "M-SEARCH"],
        sorted,
        ["DELETE", "M-SEARCH", "POST"],
    ),
    ("core", "body_methods", [], sorted, []),
    ("core", "max_body_bytes", 1, int, 1),
    ("core", "body_field_allowlist", ["name", "Email"], tuple, ("name", "Email")),
    ("core", "sensitive_keys", ["Password", "X-API"], tuple, ("password", "x-api")),
    ("core", "sensitive_keys", frozenset({"OTP"}), tuple, ("otp",)),
    ("core", "sensitive_key_allowlist", ["Token_Type"], tuple, ("token_type",)),
    ("core", "sensitive_value_patterns", [r"(?i)secret-\d+"], patterns, [r"(?i)secret-\d+"]),
    ("core", "secret_detectors", (), tuple, ()),
    ("core", "secret_detectors", "recommended", tuple, DETECTOR_NAMES),
    # Canonical: catalogue order, duplicates dropped.
    ("core", "secret_detectors", ["payment_card", "jwt", "jwt"], tuple, ("jwt", "payment_card")),
    ("core", "value_scrub_mode", "match", str, "match"),
    ("core", "log_url_query", True, bool, True),
    ("logging", "schema_version", "2.1", str, "2.1"),
    (
        "logging",
        "projection_limits",
        {"max_depth": 3, "max_record_bytes": 1024},
        lambda v: (v.max_depth, v.max_record_bytes, v.max_attributes),
        (3, 1024, 128),
    ),
    (
        "logging",
        "projection_limits",
        ProjectionLimits(max_string_length=10),
        lambda v: v.max_string_length,
        10,
    ),
    ("django", "include_usernames", True, bool, True),
    ("django", "emit_session_id", True, bool, True),
    ("django", "drf_enabled", True, repr, "True"),
    ("django", "drf_enabled", False, repr, "False"),
    ("django", "model_events_enabled", True, repr, "True"),
    ("django", "model_events_enabled", False, repr, "False"),
    (
        "django",
        "trusted_proxy_cidrs",
        ["10.0.0.1/8", "2001:db8::/32"],
        tuple,
        ("10.0.0.1/8", "2001:db8::/32"),
    ),
    (
        "django",
        "filters",
        ["myapp.audit.drop_health", FILTER_OBJECT],
        tuple,
        ("myapp.audit.drop_health", FILTER_OBJECT),
    ),
    ("django", "filters", [FilterObject], tuple, (FilterObject,)),
    (
        "django",
        "enrichers",
        [enrich_fn, "pkg.mod.Enricher"],
        tuple,
        (enrich_fn, "pkg.mod.Enricher"),
    ),
]


@pytest.mark.parametrize(("section", "key", "value", "view", "expected"), VALID)
def test_valid_value(
    section: str, key: str, value: object, view: Callable[[Any], object], expected: object
) -> None:
    assert view(parse(section, key, value)) == expected


def test_trusted_proxy_count_with_cidrs() -> None:
    django = SecAuditSettings.from_value(
        {"django": {"trusted_proxy_cidrs": ["10.0.0.0/8"], "trusted_proxy_count": 2}}
    ).django
    assert django.trusted_proxy_count == 2
    assert django.trusted_proxy_networks == (ip_network("10.0.0.0/8"),)


def test_trusted_proxy_networks_are_parsed_non_strict() -> None:
    django = SecAuditSettings.from_value(
        {"django": {"trusted_proxy_cidrs": ["10.1.2.3/8", "2001:db8::1/32", "192.0.2.7"]}}
    ).django
    assert django.trusted_proxy_count is None  # D5: cidrs without a count is valid
    assert [str(n) for n in django.trusted_proxy_networks] == [
        "10.0.0.0/8",
        "2001:db8::/32",
        "192.0.2.7/32",
    ]


def test_generator_sequences_are_accepted() -> None:
    core = SecAuditSettings.from_value({"core": {"sensitive_keys": (k for k in ["A", "B"])}}).core
    assert core.sensitive_keys == ("a", "b")


def test_compiled_patterns_keep_their_flags() -> None:
    pattern = re.compile("abc", re.IGNORECASE)
    (parsed,) = parse("core", "sensitive_value_patterns", [pattern])
    assert parsed is pattern


def test_string_patterns_compile_without_flags() -> None:
    (parsed,) = parse("core", "ignore_paths", ["^/Health"])
    assert parsed.flags == re.UNICODE
    assert parsed.search("/health") is None


# --- wrong types and values --------------------------------------------------------

INVALID: list[tuple[str, str, object, str]] = [
    ("core", "source", 5, "must be a non-empty str (got int 5)."),
    ("core", "source", None, "must be a non-empty str (got NoneType None)."),
    ("core", "source", "", "must be a non-empty str (got '')."),
    ("core", "source", "x" * 257, "must be at most 256 characters"),
    (
        "core",
        "ignore_paths",
        "^/health",
        "must be a sequence (list or tuple) (got str '^/health').",
    ),
    (
        "core",
        "ignore_paths",
        [b"^/x"],
        "must contain only regexes (str or compiled) (got bytes b'^/x').",
    ),
    (
        "core",
        "ignore_paths",
        [re.compile(b"x")],
        "must contain only str regexes, not bytes patterns",
    ),
    (
        "core",
        "ignore_paths",
        ["("],
        "contains malformed regex '(': missing ), unterminated subpattern",
    ),
    ("core", "ignore_paths", 5, "must be a sequence (list or tuple) (got int 5)."),
    ("core", "ignore_status_codes", 404, "must be a sequence (list or tuple) (got int 404)."),
    (
        "core",
        "ignore_status_codes",
        [True],
        "must contain only int HTTP status codes (got bool True).",
    ),
    (
        "core",
        "ignore_status_codes",
        [404.0],
        "must contain only int HTTP status codes (got float 404.0).",
    ),
    (
        "core",
        "ignore_status_codes",
        ["404"],
        "must contain only int HTTP status codes (got str '404').",
    ),
    (
        "core",
        "ignore_status_codes",
        [99],
        "must contain only HTTP status codes (100-599) (got 99).",
    ),
    (
        "core",
        "ignore_status_codes",
        [600],
        "must contain only HTTP status codes (100-599) (got 600).",
    ),
    ("core", "sample_rate", True, "must be a number between 0 and 1 (got bool True)."),
    ("core", "sample_rate", "0.5", "must be a number between 0 and 1 (got str '0.5')."),
    ("core", "sample_rate", None, "must be a number between 0 and 1 (got NoneType None)."),
    ("core", "sample_rate", 2, "must be between 0 and 1 (got 2)."),
    ("core", "sample_rate", -0.1, "must be between 0 and 1 (got -0.1)."),
    ("core", "sample_rate", float("nan"), "must be a finite number (got nan)."),
    ("core", "sample_rate", float("inf"), "must be a finite number (got inf)."),
    ("core", "log_ok_responses", 1, "must be a bool (True or False) (got int 1)."),
    ("core", "log_ok_responses", "yes", "must be a bool (True or False) (got str 'yes')."),
    ("core", "log_ok_responses", None, "must be a bool (True or False) (got NoneType None)."),
    ("core", "log_request_bodies", 0, "must be a bool (True or False) (got int 0)."),
    ("core", "log_body_paths", "^/api", "must be a sequence (list or tuple) (got str '^/api')."),
    (
        "core",
        "log_body_paths",
        ["[a-"],
        "contains malformed regex '[a-': unterminated character set",
    ),
    ("core", "body_methods", "POST", "must be a sequence (list or tuple) (got str 'POST')."),
    ("core", "body_methods", [1], "must contain only strings (got int 1)."),
    (
        "core",
        "body_methods",
        [""],
        "must contain HTTP method tokens (ASCII letters, digits, '-') (got '').",
    ),
    (
        "core",
        "body_methods",
        ["PO ST"],
        "must contain HTTP method tokens (ASCII letters, digits, '-') (got 'PO ST').",
    ),
    ("core", "body_methods", ["PÖST"], "must contain HTTP method tokens"),
    ("core", "max_body_bytes", 0, "must be a positive int (got 0)."),
    ("core", "max_body_bytes", -1, "must be a positive int (got -1)."),
    ("core", "max_body_bytes", 4096.0, "must be an int (got float 4096.0)."),
    ("core", "max_body_bytes", True, "must be an int (got bool True)."),
    ("core", "max_body_bytes", "4096", "must be an int (got str '4096')."),
    (
        "core",
        "body_field_allowlist",
        "name",
        "must be a sequence (list or tuple) (got str 'name').",
    ),
    ("core", "body_field_allowlist", [1], "must contain only strings (got int 1)."),
    (
        "core",
        "body_field_allowlist",
        {"a": 1},
        "must be a sequence (list or tuple) (got dict {'a': 1}).",
    ),
    (
        "core",
        "sensitive_keys",
        "password",
        "must be a sequence (list or tuple) (got str 'password').",
    ),
    (
        "core",
        "sensitive_keys",
        b"password",
        "must be a sequence (list or tuple) (got bytes b'password').",
    ),
    ("core", "sensitive_keys", [None], "must contain only strings (got NoneType None)."),
    ("core", "sensitive_key_allowlist", "x", "must be a sequence (list or tuple) (got str 'x')."),
    ("core", "sensitive_key_allowlist", [3], "must contain only strings (got int 3)."),
    (
        "core",
        "sensitive_value_patterns",
        r"\d+",
        "must be a sequence (list or tuple) (got str '\\\\d+').",
    ),
    (
        "core",
        "sensitive_value_patterns",
        ["(?P<x"],
        "contains malformed regex '(?P<x': missing >, unterminated name",
    ),
    (
        "core",
        "sensitive_value_patterns",
        [5],
        "must contain only regexes (str or compiled) (got int 5).",
    ),
    (
        "core",
        "secret_detectors",
        "all",
        "must be 'recommended' or a sequence of detector names (got 'all').",
    ),
    (
        "core",
        "secret_detectors",
        None,
        "must be 'recommended' or a sequence of detector names (got NoneType None).",
    ),
    (
        "core",
        "secret_detectors",
        {"jwt": True},
        "must be 'recommended' or a sequence of detector names",
    ),
    ("core", "secret_detectors", [1], "must contain only strings (got int 1)."),
    (
        "core",
        "secret_detectors",
        ["jwt", "nope", "aws"],
        "has unknown detector(s): aws, nope. Valid: aws_access_key_id, github_token, gitlab_token, "
        "slack_token, stripe_key, google_api_key, jwt, private_key_block, http_credentials, payment_card, aws_secret_access_key,",
    ),
    (
        "core",
        "sensitive_key_sets",
        "all",
        "must be 'recommended', None or a sequence of key-set names (got 'all').",
    ),
    ("core", "value_scrub_mode", "spans", "must be 'value' or 'match' (got 'spans')."),
    ("core", "value_scrub_mode", "VALUE", "must be 'value' or 'match' (got 'VALUE')."),
    ("core", "value_scrub_mode", None, "must be 'value' or 'match' (got NoneType None)."),
    ("core", "log_url_query", "false", "must be a bool (True or False) (got str 'false')."),
    ("logging", "schema_version", 1.0, "must be a non-empty str (got float 1.0)."),
    ("logging", "schema_version", "", "must be a non-empty str (got '')."),
    ("logging", "projection_limits", 5, "must be a ProjectionLimits or a mapping (got int 5)."),
    ("logging", "projection_limits", [("max_depth", 1)], "must be a ProjectionLimits or a mapping"),
    # Every integrity rule: tests/unit/test_config_integrity.py.
    (
        "logging",
        "integrity",
        "key",
        "must be None, an IntegrityConfig or a mapping (got str 'key').",
    ),
    ("django", "include_usernames", "True", "must be a bool (True or False) (got str 'True')."),
    ("django", "emit_session_id", 1, "must be a bool (True or False) (got int 1)."),
    ("django", "drf_enabled", "auto", "must be None (auto), True or False (got str 'auto')."),
    ("django", "drf_enabled", 1, "must be None (auto), True or False (got int 1)."),
    ("django", "model_events_enabled", 0, "must be None (auto), True or False (got int 0)."),
    (
        "django",
        "trusted_proxy_cidrs",
        "10.0.0.0/8",
        "must be a sequence (list or tuple) (got str '10.0.0.0/8').",
    ),
    ("django", "trusted_proxy_cidrs", [10], "must contain only strings (got int 10)."),
    ("django", "trusted_proxy_cidrs", ["10.0.0.0/33"], "contains invalid CIDR '10.0.0.0/33': "),
    ("django", "trusted_proxy_cidrs", ["not-a-network"], "contains invalid CIDR 'not-a-network': "),
    ("django", "trusted_proxy_cidrs", [" 10.0.0.0/8"], "contains invalid CIDR ' 10.0.0.0/8': "),
    ("django", "trusted_proxy_count", 2, "has no effect without trusted_proxy_cidrs (got 2)."),
    (
        "django",
        "filters",
        "myapp.filters",
        "must be a sequence (list or tuple) (got str 'myapp.filters').",
    ),
    (
        "django",
        "filters",
        ["nodots"],
        "must contain dotted paths of the form 'module.attr' (got 'nodots').",
    ),
    (
        "django",
        "filters",
        ["a..b"],
        "must contain dotted paths of the form 'module.attr' (got 'a..b').",
    ),
    (
        "django",
        "filters",
        ["my-app.f"],
        "must contain dotted paths of the form 'module.attr' (got 'my-app.f').",
    ),
    (
        "django",
        "filters",
        [42],
        "must contain only dotted paths, callables or objects with .filter() (got int 42).",
    ),
    (
        "django",
        "enrichers",
        ["x"],
        "must contain dotted paths of the form 'module.attr' (got 'x').",
    ),
    (
        "django",
        "enrichers",
        [FILTER_OBJECT],
        "must contain only dotted paths, callables or objects with .enrich()",
    ),
    ("django", "enrichers", None, "must be a sequence (list or tuple) (got NoneType None)."),
]


@pytest.mark.parametrize(("section", "key", "value", "fragment"), INVALID)
def test_invalid_value(section: str, key: str, value: object, fragment: str) -> None:
    message = parse_error({section: {key: value}})
    prefix = f"SEC_AUDIT['{section}']['{key}'] "
    assert message.startswith(prefix), message
    assert fragment in message, message


def test_every_key_has_an_invalid_case() -> None:
    covered = {(s, k) for s, k, _, _ in INVALID}
    for section, cls in (
        ("core", CoreAuditConfig),
        ("logging", LoggingAuditConfig),
        ("django", DjangoAuditConfig),
    ):
        keys = {f.name for f in dataclasses.fields(cls) if f.init}
        assert {(section, k) for k in keys} <= covered


@pytest.mark.parametrize(
    ("count", "fragment"),
    [
        (0, "must be an int >= 1 or None (got 0)."),
        (-2, "must be an int >= 1 or None (got -2)."),
        (True, "must be an int >= 1 or None (got bool True)."),
        (1.0, "must be an int >= 1 or None (got float 1.0)."),
        ("2", "must be an int >= 1 or None (got str '2')."),
    ],
)
def test_trusted_proxy_count_wrong(count: object, fragment: str) -> None:
    message = parse_error(
        {"django": {"trusted_proxy_cidrs": ["10.0.0.0/8"], "trusted_proxy_count": count}}
    )
    assert message == f"SEC_AUDIT['django']['trusted_proxy_count'] {fragment}"


def test_huge_ints_do_not_break_the_message() -> None:
    # float() would overflow, repr() would exceed the int str-digits limit.
    assert parse_error({"core": {"sample_rate": 10**400}}).startswith(
        "SEC_AUDIT['core']['sample_rate'] must be between 0 and 1 (got 1000000"
    )
    assert parse_error({"core": {"sample_rate": 10**5000}}) == (
        "SEC_AUDIT['core']['sample_rate'] must be between 0 and 1 (got <int object>)."
    )


def test_malformed_regex_message_is_complete() -> None:
    message = parse_error({"core": {"sensitive_value_patterns": ["ok", "a(b"]}})
    assert message == (
        "SEC_AUDIT['core']['sensitive_value_patterns'] contains malformed regex 'a(b': "
        "missing ), unterminated subpattern at position 1."
    )


def test_huge_bad_value_is_shown_bounded() -> None:
    message = parse_error({"core": {"source": 7 * 10**200}})
    assert message.startswith("SEC_AUDIT['core']['source'] must be a non-empty str (got int ")
    assert len(message) < 200


# --- projection limits -------------------------------------------------------------

LIMIT_FIELDS = [
    "max_depth",
    "max_mapping_entries",
    "max_sequence_length",
    "max_string_length",
    "max_attributes",
    "max_bytes",
    "max_record_bytes",
]


def test_projection_limit_defaults() -> None:
    assert dataclasses.asdict(ProjectionLimits()) == {
        "max_depth": 8,
        "max_mapping_entries": 100,
        "max_sequence_length": 100,
        "max_string_length": 4096,
        "max_attributes": 128,
        "max_bytes": 64,
        "max_record_bytes": 262144,
    }
    assert [f.name for f in dataclasses.fields(ProjectionLimits)] == LIMIT_FIELDS


@pytest.mark.parametrize("name", LIMIT_FIELDS)
def test_projection_limit_valid(name: str) -> None:
    value = 1024 if name == "max_record_bytes" else 1
    limits = parse("logging", "projection_limits", {name: value})
    assert getattr(limits, name) == value


@pytest.mark.parametrize("name", LIMIT_FIELDS)
@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (True, "must be an int (got bool True)."),
        (1.5, "must be an int (got float 1.5)."),
        ("8", "must be an int (got str '8')."),
        (None, "must be an int (got NoneType None)."),
        (0, None),
        (-1, None),
    ],
)
def test_projection_limit_invalid(name: str, value: object, fragment: str | None) -> None:
    if fragment is None:
        rule = "must be at least 1024" if name == "max_record_bytes" else "must be a positive int"
        fragment = f"{rule} (got {value})."
    message = parse_error({"logging": {"projection_limits": {name: value}}})
    assert message == f"SEC_AUDIT['logging']['projection_limits']['{name}'] {fragment}"


def test_max_record_bytes_floor() -> None:
    message = parse_error({"logging": {"projection_limits": {"max_record_bytes": 1023}}})
    assert message == (
        "SEC_AUDIT['logging']['projection_limits']['max_record_bytes'] "
        "must be at least 1024 (got 1023)."
    )


def test_projection_limits_unknown_keys() -> None:
    message = parse_error({"logging": {"projection_limits": {"max_foo": 1, "max_dept": 2}}})
    assert message == (
        "SEC_AUDIT['logging']['projection_limits'] has unknown key(s): max_dept, max_foo."
        " SEC_AUDIT['logging']['projection_limits']['max_dept']: did you mean 'max_depth'?"
    )


def test_projection_limits_direct_construction_validates() -> None:
    with pytest.raises(AuditConfigurationError, match=r"^max_depth must be a positive int"):
        ProjectionLimits(max_depth=0)
    with pytest.raises(AuditConfigurationError, match=r"^max_record_bytes must be at least 1024"):
        ProjectionLimits(max_record_bytes=100)


# --- sections and the SEC_AUDIT value itself ---------------------------------------


def test_unknown_sections() -> None:
    assert parse_error({"b": {}, "a": {}, "core": {}}) == (
        "Unknown SEC_AUDIT section(s): a, b. Expected: core, logging, django."
    )


def test_unknown_section_hint() -> None:
    assert parse_error({"djagno": {}}) == (
        "Unknown SEC_AUDIT section(s): djagno. Expected: core, logging, django."
        " SEC_AUDIT['djagno']: did you mean 'django'?"
    )


def test_unknown_keys_sorted_and_all_listed() -> None:
    assert parse_error({"core": {"foo": 1, "bar": 2, "source": "x"}}) == (
        "Unknown SEC_AUDIT['core'] setting(s): bar, foo."
    )


def test_unknown_key_did_you_mean() -> None:
    assert parse_error({"core": {"sample_rat": 1, "log_ok_response": True, "zzz": 1}}) == (
        "Unknown SEC_AUDIT['core'] setting(s): log_ok_response, sample_rat, zzz."
        " SEC_AUDIT['core']['log_ok_response']: did you mean 'log_ok_responses'?"
        " SEC_AUDIT['core']['sample_rat']: did you mean 'sample_rate'?"
    )


@pytest.mark.parametrize("section", ["logging", "django"])
def test_unknown_keys_other_sections(section: str) -> None:
    assert (
        parse_error({section: {"nope": 1}}) == f"Unknown SEC_AUDIT['{section}'] setting(s): nope."
    )


def test_non_string_unknown_key() -> None:
    assert parse_error({"core": {1: "x"}}) == "Unknown SEC_AUDIT['core'] setting(s): 1."


@pytest.mark.parametrize(
    ("section", "cls_name"),
    [
        ("core", "CoreAuditConfig"),
        ("logging", "LoggingAuditConfig"),
        ("django", "DjangoAuditConfig"),
    ],
)
def test_section_must_be_a_mapping(section: str, cls_name: str) -> None:
    assert parse_error({section: ["source"]}) == (
        f"SEC_AUDIT['{section}'] must be a mapping or {cls_name} instance (got list ['source'])."
    )


def test_section_instances_are_used_as_is() -> None:
    core = CoreAuditConfig(source="svc")
    logging_cfg = LoggingAuditConfig(schema_version="9")
    django = DjangoAuditConfig(include_usernames=True)
    settings = SecAuditSettings.from_value({"core": core, "logging": logging_cfg, "django": django})
    assert settings.core is core
    assert settings.logging is logging_cfg
    assert settings.django is django


@pytest.mark.parametrize("value", [[], "core", 3, ("core",)])
def test_sec_audit_must_be_a_mapping(value: object) -> None:
    message = parse_error(value)
    assert message.startswith("SEC_AUDIT must be a mapping or SecAuditSettings instance (got ")


def test_settings_instance_is_returned_as_is() -> None:
    settings = SecAuditSettings()
    assert SecAuditSettings.from_value(settings) is settings


def test_settings_are_frozen() -> None:
    settings = SecAuditSettings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.core.source = "x"  # type: ignore[misc]


def test_settings_direct_construction_checks_section_types() -> None:
    with pytest.raises(AuditConfigurationError, match=r"^core must be a CoreAuditConfig"):
        SecAuditSettings(core={"source": "x"})  # type: ignore[arg-type]


def test_first_error_wins_and_names_its_key() -> None:
    message = parse_error({"core": {"sample_rate": 5}, "django": {"include_usernames": 1}})
    assert message.startswith("SEC_AUDIT['core']['sample_rate']")


# --- direct construction normalises and validates by the same rules ----------------


def test_core_direct_construction_normalises() -> None:
    core = CoreAuditConfig(
        ignore_paths=["^/x"],  # type: ignore[arg-type]
        sensitive_keys=["OTP"],  # type: ignore[arg-type]
        body_methods=["post"],  # type: ignore[arg-type]
        secret_detectors="recommended",  # type: ignore[arg-type]
    )
    assert patterns(core.ignore_paths) == ["^/x"]
    assert core.sensitive_keys == ("otp",)
    assert core.body_methods == frozenset({"POST"})
    assert core.secret_detectors == DETECTOR_NAMES


def test_core_direct_construction_validates() -> None:
    with pytest.raises(
        AuditConfigurationError, match=r"^sample_rate must be between 0 and 1 \(got 3\)\.$"
    ):
        CoreAuditConfig(sample_rate=3)


def test_django_direct_construction_validates_pair() -> None:
    with pytest.raises(
        AuditConfigurationError,
        match=r"^trusted_proxy_count has no effect without trusted_proxy_cidrs \(got 1\)\.$",
    ):
        DjangoAuditConfig(trusted_proxy_count=1)
    django = DjangoAuditConfig(trusted_proxy_cidrs=("10.0.0.0/8",), trusted_proxy_count=1)
    assert django.trusted_proxy_networks == (ip_network("10.0.0.0/8"),)


def test_django_networks_not_settable() -> None:
    with pytest.raises(TypeError):
        DjangoAuditConfig(trusted_proxy_networks=())  # type: ignore[call-arg]


def test_parsed_settings_equal_direct_construction() -> None:
    parsed = SecAuditSettings.from_value(
        {"core": {"source": "svc", "sample_rate": 0.5}, "logging": {"schema_version": "2"}}
    )
    assert parsed == SecAuditSettings(
        core=CoreAuditConfig(source="svc", sample_rate=0.5),
        logging=LoggingAuditConfig(schema_version="2"),
    )
