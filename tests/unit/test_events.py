"""AuditEvent construction, the event catalogue and the severity table."""

from __future__ import annotations

import dataclasses
import logging
import time
from types import MappingProxyType

import pytest

from sec_audit.core.events import (
    BODIES,
    AuditEvent,
    EventType,
    event_body,
    event_level,
    severity_number,
    severity_text,
)


def make(**overrides: object) -> AuditEvent:
    fields: dict[str, object] = {
        "event_type": "http.response.client_error",
        "schema_version": "1.0",
        "body": "http.response",
        "attributes": {"user.id": "7"},
    }
    fields.update(overrides)
    return AuditEvent(**fields)  # type: ignore[arg-type]


def test_identity_attributes_come_first_and_mirror_the_fields() -> None:
    event = make(attributes={"a": 1, "schema_version": "9", "event_type": "other", "b": [2]})
    assert list(event.attributes.items()) == [
        ("event_type", "http.response.client_error"),
        ("schema_version", "1.0"),
        ("a", 1),
        ("b", [2]),
    ]


def test_attributes_are_a_new_plain_dict() -> None:
    source = {"user.id": "7"}
    event = make(attributes=source)
    assert type(event.attributes) is dict
    event.attributes["extra"] = "x"  # enrichers add to event.attributes
    assert "extra" not in source
    assert event.attributes["extra"] == "x"


def test_any_mapping_is_accepted_without_deep_copy() -> None:
    nested = {"k": "v"}
    event = make(attributes=MappingProxyType({"nested": nested}))
    assert event.attributes["nested"] is nested


def test_attributes_default_to_identity_only() -> None:
    event = AuditEvent("auth.logout.unknown", "1.0", "auth.logout")
    assert event.attributes == {"event_type": "auth.logout.unknown", "schema_version": "1.0"}


def test_timestamp_defaults_to_now() -> None:
    before = time.time_ns()
    event = make()
    after = time.time_ns()
    assert before <= event.timestamp_ns <= after
    assert event.observed_timestamp_ns is None


def test_explicit_timestamps() -> None:
    event = make(timestamp_ns=0, observed_timestamp_ns=5)
    assert (event.timestamp_ns, event.observed_timestamp_ns) == (0, 5)


@pytest.mark.parametrize(
    ("overrides", "error", "message"),
    [
        ({"event_type": ""}, ValueError, "AuditEvent.event_type must be a non-empty str."),
        ({"event_type": None}, TypeError, "AuditEvent.event_type must be a str (got NoneType)."),
        ({"schema_version": ""}, ValueError, "AuditEvent.schema_version must be a non-empty str."),
        (
            {"schema_version": 1.0},
            TypeError,
            "AuditEvent.schema_version must be a str (got float).",
        ),
        ({"body": b"x"}, TypeError, "AuditEvent.body must be a str (got bytes)."),
        (
            {"attributes": [("a", 1)]},
            TypeError,
            "AuditEvent.attributes must be a mapping (got list).",
        ),
        ({"timestamp_ns": -1}, ValueError, "AuditEvent.timestamp_ns must be >= 0 (got -1)."),
        ({"timestamp_ns": True}, TypeError, "AuditEvent.timestamp_ns must be an int (got bool)."),
        ({"timestamp_ns": 1.5}, TypeError, "AuditEvent.timestamp_ns must be an int (got float)."),
        (
            {"observed_timestamp_ns": -3},
            ValueError,
            "AuditEvent.observed_timestamp_ns must be >= 0 (got -3).",
        ),
        (
            {"observed_timestamp_ns": "1"},
            TypeError,
            "AuditEvent.observed_timestamp_ns must be an int (got str).",
        ),
    ],
)
def test_invalid_fields(overrides: dict[str, object], error: type[Exception], message: str) -> None:
    with pytest.raises(error) as info:
        make(**overrides)
    assert str(info.value) == message


def test_empty_body_is_allowed() -> None:
    assert make(body="").body == ""


def test_fields_are_frozen() -> None:
    event = make()
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.body = "x"  # type: ignore[misc]


def test_observed_returns_a_stamped_copy() -> None:
    event = make(timestamp_ns=10)
    stamped = event.observed(99)
    assert stamped.observed_timestamp_ns == 99
    assert event.observed_timestamp_ns is None
    assert stamped.timestamp_ns == 10
    assert stamped.attributes == event.attributes
    stamped.attributes["added"] = 1  # the copy has its own dict
    assert "added" not in event.attributes


def test_observed_defaults_to_now() -> None:
    before = time.time_ns()
    stamped = make().observed()
    assert stamped.observed_timestamp_ns is not None
    assert before <= stamped.observed_timestamp_ns <= time.time_ns()


def test_replace_keeps_identity_attributes_in_sync() -> None:
    event = dataclasses.replace(make(), event_type="auth.login.failed")
    assert event.attributes["event_type"] == "auth.login.failed"


CATALOGUE = {
    "http.response.success": ("http.response", logging.INFO),
    "http.response.redirect": ("http.response", logging.INFO),
    "http.response.client_error": ("http.response", logging.WARNING),
    "http.response.server_error": ("http.response", logging.ERROR),
    "auth.login.success": ("auth.login.success", logging.INFO),
    "auth.login.failed": ("auth.login.failed", logging.WARNING),
    "auth.logout.success": ("auth.logout", logging.INFO),
    "auth.logout.unknown": ("auth.logout", logging.INFO),
    "auth.logout.failed": ("auth.logout", logging.WARNING),
    "model.create": ("model.event", logging.INFO),
    "model.update": ("model.event", logging.INFO),
    "model.delete": ("model.event", logging.INFO),
    "model.access": ("model.event", logging.INFO),
    "model.unknown": ("model.event", logging.INFO),
    "audit.logging.malformed_record": ("audit.logging.malformed_record", logging.ERROR),
}


def test_event_type_constants_cover_the_catalogue() -> None:
    constants = {v for k, v in vars(EventType).items() if k.isupper()}
    assert constants == set(CATALOGUE)
    assert EventType.HTTP_RESPONSE_REDIRECT == "http.response.redirect"
    assert EventType.AUTH_LOGOUT_FAILED == "auth.logout.failed"
    assert EventType.MALFORMED_RECORD == "audit.logging.malformed_record"


@pytest.mark.parametrize(("event_type", "expected"), sorted(CATALOGUE.items()))
def test_bodies_and_levels(event_type: str, expected: tuple[str, int]) -> None:
    body, level = expected
    assert BODIES[event_type] == body
    assert event_body(event_type) == body
    assert event_level(event_type) == level


def test_unknown_event_type_defaults() -> None:
    assert event_body("custom.thing") == "custom.thing"
    assert event_level("custom.thing") == logging.INFO


@pytest.mark.parametrize(
    ("levelno", "number", "text"),
    [
        (100, 21, "Level 100"),
        (logging.CRITICAL, 21, "CRITICAL"),
        (49, 17, "Level 49"),
        (logging.ERROR, 17, "ERROR"),
        (39, 13, "Level 39"),
        (logging.WARNING, 13, "WARNING"),
        (25, 9, "Level 25"),
        (logging.INFO, 9, "INFO"),
        (19, 5, "Level 19"),
        (logging.DEBUG, 5, "DEBUG"),
        (9, 1, "Level 9"),
        (1, 1, "Level 1"),
        (0, 0, "NOTSET"),
        (-5, 0, "Level -5"),
    ],
)
def test_severity_table(levelno: int, number: int, text: str) -> None:
    assert severity_number(levelno) == number
    assert severity_text(levelno) == text
