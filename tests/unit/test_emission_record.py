"""How emit_event makes its record (makeRecord + handle, no findCaller) and the cheap
event copies it relies on (AuditEvent.owned, observed)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from sec_audit.core.events import AuditEvent
from sec_audit.logging import emission
from sec_audit.logging.emission import emit_event
from sec_audit.logging.pipeline import AuditPipeline

from ._logging_helpers import Capture, audit_logger


@pytest.fixture
def audit() -> Iterator[tuple[logging.Logger, Capture]]:
    with audit_logger("tests.emission_record.audit") as pair:
        yield pair


def make_event(**attrs: Any) -> AuditEvent:
    return AuditEvent("auth.login.failed", "1.0", "auth.login.failed", attrs, 123, None)


def test_record_says_it_comes_from_emit_event(audit: tuple[logging.Logger, Capture]) -> None:
    logger, handler = audit
    emit_event(logger, make_event(), logging.WARNING)
    (record,) = handler.records
    assert record.pathname == emission.__file__
    assert record.module == "emission"
    assert record.funcName == "emit_event"
    assert record.lineno == emit_event.__code__.co_firstlineno
    assert record.args == ()
    assert record.exc_info is None and record.stack_info is None
    assert record.name == logger.name
    assert record.levelname == "WARNING"


def test_a_custom_record_factory_applies(audit: tuple[logging.Logger, Capture]) -> None:
    logger, handler = audit
    stock = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = stock(*args, **kwargs)
        record.otelTraceID = "f" * 32  # what OTel's logging instrumentation does
        return record

    logging.setLogRecordFactory(factory)
    try:
        assert emit_event(logger, make_event(), logging.INFO)
    finally:
        logging.setLogRecordFactory(stock)
    assert handler.records[0].otelTraceID == "f" * 32  # type: ignore[attr-defined]


def test_a_logger_subclass_make_record_applies() -> None:
    class Tagging(logging.Logger):
        def makeRecord(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
            record = super().makeRecord(*args, **kwargs)
            record.tagged = True
            return record

    logger = Tagging("tests.emission_record.tagging")
    handler = Capture()
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    assert emit_event(logger, make_event(), logging.INFO)
    (record,) = handler.records
    assert record.tagged is True  # type: ignore[attr-defined]
    assert isinstance(record.audit_event, AuditEvent)  # type: ignore[attr-defined]


def test_disabled_logger_and_logger_filters_apply(audit: tuple[logging.Logger, Capture]) -> None:
    logger, handler = audit
    logger.disabled = True
    emit_event(logger, make_event(), logging.INFO)
    logger.disabled = False
    logger.addFilter(lambda record: False)
    assert emit_event(logger, make_event(), logging.INFO) is True  # handed over, as log() would
    assert handler.records == []


def test_an_extension_lowering_the_level_below_the_logger_writes_nothing(
    audit: tuple[logging.Logger, Capture],
) -> None:
    logger, handler = audit
    lower = AuditPipeline(filters=[lambda e, lv: (e, logging.DEBUG)])
    assert emit_event(logger, make_event(), logging.INFO, lower) is True
    assert handler.records == []


def test_owned_event_is_stamped_in_place(audit: tuple[logging.Logger, Capture]) -> None:
    logger, handler = audit
    event = make_event()
    assert emit_event(logger, event, logging.INFO, owned=True)
    assert handler.records[0].audit_event is event  # type: ignore[attr-defined]
    assert isinstance(event.observed_timestamp_ns, int)
    other = make_event()
    assert emit_event(logger, other, logging.INFO)
    assert handler.records[1].audit_event is not other  # type: ignore[attr-defined]
    assert other.observed_timestamp_ns is None


# -- AuditEvent.owned / observed -------------------------------------------------------


def test_owned_takes_the_dict() -> None:
    attrs = {"event_type": "x.y", "schema_version": "1.0", "a": 1}
    event = AuditEvent.owned("x.y", "1.0", "x", attrs)
    assert event.attributes is attrs
    assert event.observed_timestamp_ns is None and event.timestamp_ns > 0
    assert event == AuditEvent("x.y", "1.0", "x", attrs, event.timestamp_ns)


@pytest.mark.parametrize(
    "attrs",
    [
        {"a": 1},  # identity attributes missing
        {"event_type": "other", "schema_version": "1.0", "a": 1},
        {"event_type": "x.y", "schema_version": "2.0", "a": 1},
    ],
)
def test_owned_falls_back_to_the_copying_constructor(attrs: dict[str, Any]) -> None:
    given = dict(attrs)
    event = AuditEvent.owned("x.y", "1.0", "x", given)
    assert event.attributes is not given
    assert list(event.attributes.items()) == [
        ("event_type", "x.y"),
        ("schema_version", "1.0"),
        ("a", 1),
    ]


def test_owned_checks_the_fields() -> None:
    with pytest.raises(ValueError, match="event_type must be a non-empty str"):
        AuditEvent.owned("", "1.0", "x", {"event_type": "", "schema_version": "1.0"})
    with pytest.raises(TypeError, match="body must be a str"):
        AuditEvent.owned("x.y", "1.0", b"x", {"event_type": "x.y", "schema_version": "1.0"})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timestamp_ns must be >= 0"):
        AuditEvent.owned(
            "x.y", "1.0", "x", {"event_type": "x.y", "schema_version": "1.0"}, timestamp_ns=-1
        )


def test_observed_copies_without_revalidating() -> None:
    event = make_event(a=[1])
    stamped = event.observed(5)
    assert stamped == AuditEvent(
        event.event_type, event.schema_version, event.body, event.attributes, 123, 5
    )
    assert stamped.attributes is not event.attributes
    assert stamped.attributes["a"] is event.attributes["a"]  # shallow, as before


def test_observed_owned_stamps_only_an_unstamped_event() -> None:
    event = make_event()
    assert event.observed(7, owned=True) is event
    assert event.observed_timestamp_ns == 7
    again = event.observed(9, owned=True)  # already stamped: a copy
    assert again is not event and again.observed_timestamp_ns == 9
    assert event.observed_timestamp_ns == 7


@pytest.mark.parametrize(("ns", "error"), [(-1, ValueError), (1.5, TypeError), (True, TypeError)])
def test_observed_checks_the_stamp(ns: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        make_event().observed(ns)
