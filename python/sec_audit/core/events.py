"""The audit event: what the Django layer builds and the logging layer emits."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

__all__ = [
    "BODIES",
    "PROTECTED_KEYS",
    "AuditEvent",
    "EventType",
    "event_body",
    "event_level",
    "severity_number",
    "severity_text",
]

# The identity attributes only the audit layer sets (fix B1): extensions may read but
# never change them (logging/pipeline.py), and the engines neither key-redact nor scan
# their values (engine/python/projection.py VALUE_EXEMPT; the Rust engine's table is
# held equal by tests/parity/test_constant_tables.py).
PROTECTED_KEYS: Final[frozenset[str]] = frozenset(
    {"event_type", "schema_version", "request_id", "session.id", "source.address"}
)


class EventType:
    """Every event type the original emits (plus the never-emitted logout failure)."""

    HTTP_RESPONSE_SUCCESS: Final = "http.response.success"
    HTTP_RESPONSE_REDIRECT: Final = "http.response.redirect"
    HTTP_RESPONSE_CLIENT_ERROR: Final = "http.response.client_error"
    HTTP_RESPONSE_SERVER_ERROR: Final = "http.response.server_error"
    AUTH_LOGIN_SUCCESS: Final = "auth.login.success"
    AUTH_LOGIN_FAILED: Final = "auth.login.failed"
    AUTH_LOGOUT_SUCCESS: Final = "auth.logout.success"
    AUTH_LOGOUT_UNKNOWN: Final = "auth.logout.unknown"
    AUTH_LOGOUT_FAILED: Final = "auth.logout.failed"
    MODEL_CREATE: Final = "model.create"
    MODEL_UPDATE: Final = "model.update"
    MODEL_DELETE: Final = "model.delete"
    MODEL_ACCESS: Final = "model.access"
    MODEL_UNKNOWN: Final = "model.unknown"
    MALFORMED_RECORD: Final = "audit.logging.malformed_record"


BODIES: Final[Mapping[str, str]] = {
    EventType.HTTP_RESPONSE_SUCCESS: "http.response",
    EventType.HTTP_RESPONSE_REDIRECT: "http.response",
    EventType.HTTP_RESPONSE_CLIENT_ERROR: "http.response",
    EventType.HTTP_RESPONSE_SERVER_ERROR: "http.response",
    EventType.AUTH_LOGIN_SUCCESS: "auth.login.success",
    EventType.AUTH_LOGIN_FAILED: "auth.login.failed",
    EventType.AUTH_LOGOUT_SUCCESS: "auth.logout",
    EventType.AUTH_LOGOUT_UNKNOWN: "auth.logout",
    EventType.AUTH_LOGOUT_FAILED: "auth.logout",
    EventType.MODEL_CREATE: "model.event",
    EventType.MODEL_UPDATE: "model.event",
    EventType.MODEL_DELETE: "model.event",
    EventType.MODEL_ACCESS: "model.event",
    EventType.MODEL_UNKNOWN: "model.event",
    EventType.MALFORMED_RECORD: EventType.MALFORMED_RECORD,
}

_LEVELS: Final[Mapping[str, int]] = {
    EventType.HTTP_RESPONSE_CLIENT_ERROR: logging.WARNING,
    EventType.HTTP_RESPONSE_SERVER_ERROR: logging.ERROR,
    EventType.AUTH_LOGIN_FAILED: logging.WARNING,
    EventType.AUTH_LOGOUT_FAILED: logging.WARNING,
    EventType.MALFORMED_RECORD: logging.ERROR,
}

# (threshold, OTel severity number), checked top-down.
_SEVERITY_STEPS: Final = (
    (logging.CRITICAL, 21),
    (logging.ERROR, 17),
    (logging.WARNING, 13),
    (logging.INFO, 9),
    (logging.DEBUG, 5),
    (1, 1),
)


def event_body(event_type: str) -> str:
    """The body string of a catalogue type; other types use their own name."""
    return BODIES.get(event_type, event_type)


def event_level(event_type: str) -> int:
    """The logging level the catalogue assigns (INFO unless listed otherwise)."""
    return _LEVELS.get(event_type, logging.INFO)


def severity_number(levelno: int) -> int:
    """OTel severity number of a stdlib level (a custom level 25 gives 9)."""
    for threshold, number in _SEVERITY_STEPS:
        if levelno >= threshold:
            return number
    return 0


def severity_text(levelno: int) -> str:
    """The stdlib level name (`WARNING`, not OTel's `WARN`; `Level 25` for unnamed levels)."""
    return logging.getLevelName(levelno)


def _check_text(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"AuditEvent.{name} must be a str (got {type(value).__name__}).")
    return value


def _check_ns(value: object, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"AuditEvent.{name} must be an int (got {type(value).__name__}).")
    if value < 0:
        raise ValueError(f"AuditEvent.{name} must be >= 0 (got {value}).")
    return value


@dataclass(frozen=True, slots=True, init=False)
class AuditEvent:
    """One audit event.

    The fields are fixed, but `attributes` is a plain dict that enrichers may add to
    (the documented contract); the given mapping is copied into a new dict. Values
    are not copied deeply or validated here: the
    engine bounds, scrubs and projects everything when the line is written, so a
    deep walk at construction would only cost time.
    """

    event_type: str
    schema_version: str
    body: str
    attributes: dict[str, Any]
    timestamp_ns: int
    observed_timestamp_ns: int | None

    def __init__(
        self,
        event_type: str,
        schema_version: str,
        body: str,
        attributes: Mapping[str, Any] | None = None,
        timestamp_ns: int | None = None,
        observed_timestamp_ns: int | None = None,
    ) -> None:
        if not _check_text(event_type, "event_type"):
            raise ValueError("AuditEvent.event_type must be a non-empty str.")
        if not _check_text(schema_version, "schema_version"):
            raise ValueError("AuditEvent.schema_version must be a non-empty str.")
        _set_event_type(self, event_type)
        _set_schema_version(self, schema_version)
        _set_body(self, _check_text(body, "body"))
        if attributes is None:
            attributes = {}
        elif not isinstance(attributes, Mapping):
            raise TypeError(
                f"AuditEvent.attributes must be a mapping (got {type(attributes).__name__})."
            )
        # The two identity attributes always mirror the fields and come first.
        merged: dict[str, Any] = {"event_type": event_type, "schema_version": schema_version}
        for key, value in attributes.items():
            if key != "event_type" and key != "schema_version":
                merged[key] = value
        _set_attributes(self, merged)
        stamp = time.time_ns() if timestamp_ns is None else _check_ns(timestamp_ns, "timestamp_ns")
        _set_timestamp(self, stamp)
        if observed_timestamp_ns is not None:
            _check_ns(observed_timestamp_ns, "observed_timestamp_ns")
        _set_observed(self, observed_timestamp_ns)

    @classmethod
    def owned(
        cls,
        event_type: str,
        schema_version: str,
        body: str,
        attributes: dict[str, Any],
        timestamp_ns: int | None = None,
    ) -> AuditEvent:
        """An event that takes `attributes` as its own dict, without copying it.

        For the audit layer's own hot path: `attributes` must be a new plain dict that
        starts with `event_type` and `schema_version` (equal to the fields) and that
        nobody else holds. The type fields are still checked; the values are not, as
        in the constructor.
        """
        if (
            type(attributes) is dict
            and type(event_type) is str
            and type(schema_version) is str
            and type(body) is str
            and event_type
            and schema_version
            and attributes.get("event_type") is event_type
            and attributes.get("schema_version") is schema_version
        ):
            event = _new(cls)
            _set_event_type(event, event_type)
            _set_schema_version(event, schema_version)
            _set_body(event, body)
            _set_attributes(event, attributes)
            _set_timestamp(
                event,
                time.time_ns() if timestamp_ns is None else _check_ns(timestamp_ns, "timestamp_ns"),
            )
            _set_observed(event, None)
            return event
        # Not as promised: the checking (and copying) constructor.
        return cls(event_type, schema_version, body, attributes, timestamp_ns)

    def observed(self, ns: int | None = None, *, owned: bool = False) -> AuditEvent:
        """A copy (with its own attributes dict) stamped with the observed time.

        The fields were checked when this event was made: the copy only copies them
        (no second validation, no re-ordering of the attributes). `owned=True` is the
        caller's promise that nobody else holds this event or will look at it again
        (the audit layer's own events): it is then stamped in place and returned.
        """
        if ns is None:
            ns = time.time_ns()
        elif type(ns) is not int or ns < 0:
            _check_ns(ns, "observed_timestamp_ns")
        if owned and self.observed_timestamp_ns is None:
            _set_observed(self, ns)
            return self
        event = _new(type(self))
        _set_event_type(event, self.event_type)
        _set_schema_version(event, self.schema_version)
        _set_body(event, self.body)
        _set_attributes(event, self.attributes.copy())
        _set_timestamp(event, self.timestamp_ns)
        _set_observed(event, ns)
        return event


# Slot writers that bypass the frozen `__setattr__` (fields are only set while an
# event is being made, never after it is handed out); a slot's own `__set__` costs
# far less than `object.__setattr__` (docs/performance.md, seventh round).
_new = object.__new__
_SLOTS: dict[str, Any] = {name: AuditEvent.__dict__[name] for name in AuditEvent.__slots__}
_set_event_type = _SLOTS["event_type"].__set__
_set_schema_version = _SLOTS["schema_version"].__set__
_set_body = _SLOTS["body"].__set__
_set_attributes = _SLOTS["attributes"].__set__
_set_timestamp = _SLOTS["timestamp_ns"].__set__
_set_observed = _SLOTS["observed_timestamp_ns"].__set__
