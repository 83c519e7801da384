"""AuditPipeline: every documented and original extension form (D4), B2/B3."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from sec_audit.core.errors import AuditConfigurationError, AuditImportError
from sec_audit.core.events import AuditEvent
from sec_audit.logging.pipeline import AuditEnricher, AuditFilter, AuditPipeline

from . import _ext_samples
from ._logging_helpers import Capture, internal_capture

SAMPLES = _ext_samples.__name__


@pytest.fixture
def internal() -> Iterator[Capture]:
    with internal_capture() as capture:
        yield capture


def make_event(**attrs: Any) -> AuditEvent:
    base = {
        "request_id": "r1",
        "session.id": "s1",
        "source.address": "10.0.0.1",
        "url.path": "/items/",
    }
    base.update(attrs)
    return AuditEvent("http.response.success", "1.0", "http.response", base, 1, None)


INFO = logging.INFO


# -- documented callables ------------------------------------------------------------


def test_documented_filter_drops_on_none_and_keeps_otherwise(internal: Capture) -> None:
    pipeline = AuditPipeline(filters=[f"{SAMPLES}.drop_health"])
    assert pipeline.run(make_event(**{"url.path": "/health/live"}), INFO) is None
    event = make_event()
    assert pipeline.run(event, INFO) == (event, INFO)
    assert internal.records == []


def test_documented_enricher_mutates_attributes(internal: Capture) -> None:
    pipeline = AuditPipeline(enrichers=[f"{SAMPLES}.add_environment"])
    event = make_event()
    out = pipeline.run(event, INFO)
    assert out is not None
    assert out[0].attributes["environment"] == "production"
    assert list(out[0].attributes)[-1] == "environment"
    assert internal.records == []


def test_callable_returned_level_is_used() -> None:
    def escalate(event: AuditEvent, level: int) -> tuple[AuditEvent, int]:
        return event, logging.ERROR

    out = AuditPipeline(filters=[escalate]).run(make_event(), INFO)
    assert out is not None and out[1] == logging.ERROR


def test_callable_returning_a_different_event_of_the_same_type_is_used() -> None:
    def replace(event: AuditEvent, level: int) -> tuple[AuditEvent, int]:
        return AuditEvent(event.event_type, event.schema_version, "other", event.attributes), level

    out = AuditPipeline(enrichers=[replace]).run(make_event(), INFO)
    assert out is not None and out[0].body == "other"


def test_callable_returning_bool(internal: Capture) -> None:
    event = make_event()
    assert AuditPipeline(filters=[lambda e, lv: True]).run(event, INFO) == (event, INFO)
    assert AuditPipeline(filters=[lambda e, lv: False]).run(event, INFO) is None
    assert internal.records == []


@pytest.mark.parametrize("garbage", [42, "yes", (1, 2, 3), ["e", 20]])
def test_callable_returning_garbage_keeps_event_and_reports(
    internal: Capture, garbage: object
) -> None:
    event = make_event()
    assert AuditPipeline(filters=[lambda e, lv: garbage]).run(event, INFO) == (event, INFO)
    assert internal.reasons == ["audit.filter_failed"]
    assert "instead of (event, level) or None" in internal.lines[0]


def test_callable_returning_tuple_with_bad_parts(internal: Capture) -> None:
    event = make_event()

    def bad_event(e: AuditEvent, lv: int) -> tuple[object, int]:
        return "not an event", lv

    def bad_level(e: AuditEvent, lv: int) -> tuple[AuditEvent, object]:
        return e, "ERROR"

    assert AuditPipeline(enrichers=[bad_event]).run(event, INFO) == (event, INFO)
    assert AuditPipeline(filters=[bad_level]).run(event, INFO) == (event, INFO)
    assert internal.reasons == ["audit.enricher_failed", "audit.filter_failed"]


def test_callable_enricher_may_return_a_mapping(internal: Capture) -> None:
    out = AuditPipeline(enrichers=[lambda e, lv: {"team": "blue"}]).run(make_event(), INFO)
    assert out is not None and out[0].attributes["team"] == "blue"


# -- the original's object protocol and classes ------------------------------------------


class KeepAdmins:
    def filter(self, event: AuditEvent) -> bool:
        return event.attributes.get("user.id") == "admin"


class AddRegion:
    def enrich(self, event: AuditEvent) -> dict[object, Any]:
        return {"region": "eu", 7: "int key", "request_id": "forged", "user.id": "u9"}


def test_protocols_are_runtime_checkable() -> None:
    assert isinstance(KeepAdmins(), AuditFilter)
    assert isinstance(AddRegion(), AuditEnricher)


def test_object_filter_and_class_forms() -> None:
    for spec in (KeepAdmins(), KeepAdmins):
        pipeline = AuditPipeline(filters=[spec])
        assert pipeline.run(make_event(), INFO) is None
        kept = pipeline.run(make_event(**{"user.id": "admin"}), INFO)
        assert kept is not None


def test_object_enricher_adds_str_non_protected_items(internal: Capture) -> None:
    out = AuditPipeline(enrichers=[AddRegion]).run(make_event(), INFO)
    assert out is not None
    attrs = out[0].attributes
    assert attrs["region"] == "eu"
    assert attrs["user.id"] == "u9"  # additions may set ordinary attributes
    assert attrs["request_id"] == "r1"  # protected: ignored
    assert 7 not in attrs
    assert internal.reasons == ["audit.extension_protected_key"]
    assert "<int key>" in internal.lines[0] and "request_id" in internal.lines[0]


def test_dotted_class_path_is_instantiated() -> None:
    out = AuditPipeline(enrichers=[f"{SAMPLES}.TenantEnricher"]).run(make_event(), INFO)
    assert out is not None and out[0].attributes["tenant"] == "acme"


def test_object_filter_returning_non_bool_keeps_and_reports(internal: Capture) -> None:
    class Sloppy:
        def filter(self, event: AuditEvent) -> Any:
            return None  # a forgotten return must not silently drop audit events

    event = make_event()
    assert AuditPipeline(filters=[Sloppy()]).run(event, INFO) == (event, INFO)
    assert internal.reasons == ["audit.filter_failed"]
    assert "returned NoneType instead of bool" in internal.lines[0]


def test_object_enricher_returning_none_is_quiet_other_non_mapping_reported(
    internal: Capture,
) -> None:
    class Nothing:
        def enrich(self, event: AuditEvent) -> None:
            return None

    class Listy:
        def enrich(self, event: AuditEvent) -> list[str]:
            return ["a"]

    event = make_event()
    assert AuditPipeline(enrichers=[Nothing(), Listy()]).run(event, INFO) == (event, INFO)
    assert internal.reasons == ["audit.enricher_failed"]


# -- failures (B2, B3) -----------------------------------------------------------------


def test_raising_extensions_are_skipped_event_kept_and_reported(internal: Capture) -> None:
    def broken_filter(event: AuditEvent, level: int) -> None:
        raise RuntimeError("secret=abc")

    class BrokenEnricher:
        def enrich(self, event: AuditEvent) -> dict[str, Any]:
            raise KeyError("boom")

    pipeline = AuditPipeline(
        filters=[broken_filter],
        enrichers=[BrokenEnricher(), f"{SAMPLES}.add_environment"],
    )
    out = pipeline.run(make_event(), INFO)
    assert out is not None
    assert out[0].attributes["environment"] == "production"  # later extensions still ran
    assert internal.reasons == ["audit.filter_failed", "audit.enricher_failed"]
    assert "broken_filter" in internal.lines[0] and "RuntimeError" in internal.lines[0]
    assert "secret=abc" not in internal.lines[0]
    assert "BrokenEnricher" in internal.lines[1] and "KeyError" in internal.lines[1]


def test_failures_are_rate_limited(internal: Capture) -> None:
    def broken(event: AuditEvent, level: int) -> None:
        raise RuntimeError

    pipeline = AuditPipeline(filters=[broken])
    for _ in range(5):
        assert pipeline.run(make_event(), INFO) is not None
    assert internal.reasons == ["audit.filter_failed"]


def test_bad_enricher_values_are_kept_for_the_engine() -> None:
    # B3: sets, NaN and arbitrary objects cost at most their own field at render time.
    class Weird:
        pass

    def odd(event: AuditEvent, level: int) -> tuple[AuditEvent, int]:
        event.attributes.update({"s": {1, 2}, "nan": float("nan"), "obj": Weird()})
        return event, level

    out = AuditPipeline(enrichers=[odd]).run(make_event(), INFO)
    assert out is not None and set(out[0].attributes) >= {"s", "nan", "obj"}


# -- protected keys ---------------------------------------------------------------------


def test_callable_cannot_change_or_remove_or_add_protected_keys(internal: Capture) -> None:
    def forge(event: AuditEvent, level: int) -> tuple[AuditEvent, int]:
        attrs = event.attributes
        attrs["request_id"] = "forged"
        del attrs["session.id"]
        attrs["event_type"] = "auth.login.success"
        attrs["note"] = "kept"
        return event, level

    event = AuditEvent(
        "auth.login.failed", "1.0", "auth.login.failed", {"request_id": "r1", "session.id": "s1"}
    )
    out = AuditPipeline(enrichers=[forge]).run(event, INFO)
    assert out is not None
    attrs = out[0].attributes
    assert attrs["request_id"] == "r1"
    assert attrs["session.id"] == "s1"
    assert attrs["event_type"] == "auth.login.failed"
    assert "source.address" not in attrs
    assert attrs["note"] == "kept"
    assert internal.reasons == ["audit.extension_protected_key"]
    assert "event_type, request_id, session.id" in internal.lines[0]


def test_adding_a_missing_protected_key_is_undone(internal: Capture) -> None:
    def add_addr(event: AuditEvent, level: int) -> tuple[AuditEvent, int]:
        event.attributes["source.address"] = "6.6.6.6"
        return event, level

    event = AuditEvent("model.create", "1.0", "model.event", {})
    out = AuditPipeline(enrichers=[add_addr]).run(event, INFO)
    assert out is not None and "source.address" not in out[0].attributes
    assert internal.reasons == ["audit.extension_protected_key"]


def test_returning_an_event_of_another_type_keeps_the_original(internal: Capture) -> None:
    def retype(event: AuditEvent, level: int) -> tuple[AuditEvent, int]:
        return AuditEvent("auth.login.success", "1.0", "x", {}), logging.ERROR

    event = make_event()
    out = AuditPipeline(filters=[retype]).run(event, INFO)
    assert out == (event, logging.ERROR)
    assert internal.reasons == ["audit.extension_protected_key"]


# -- configuration errors fail closed ------------------------------------------------------


def test_bad_dotted_path_raises_import_error() -> None:
    with pytest.raises(AuditImportError):
        AuditPipeline(filters=[f"{SAMPLES}.nope"])


def test_uninstantiable_class_and_unusable_object_raise() -> None:
    class NeedsArgs:
        def __init__(self, x: int) -> None: ...

        def filter(self, event: AuditEvent) -> bool:
            return True

    with pytest.raises(AuditConfigurationError, match="no arguments"):
        AuditPipeline(filters=[NeedsArgs])
    with pytest.raises(AuditConfigurationError, match=r"\.enrich\(event\)"):
        AuditPipeline(enrichers=[object()])


def test_order_filters_then_enrichers_and_empty_pipeline() -> None:
    seen: list[str] = []

    def f(event: AuditEvent, level: int) -> tuple[AuditEvent, int]:
        seen.append("filter")
        return event, level

    def e(event: AuditEvent, level: int) -> tuple[AuditEvent, int]:
        seen.append("enricher")
        return event, level

    AuditPipeline(filters=[f], enrichers=[e]).run(make_event(), INFO)
    assert seen == ["filter", "enricher"]
    assert not AuditPipeline()
    event = make_event()
    assert AuditPipeline().run(event, INFO) == (event, INFO)


def test_enricher_returning_none_keeps_event_and_its_mutations(internal: Capture) -> None:
    # An enricher that mutates but forgets `return` must not drop audit events.
    def forgetful(event: AuditEvent, level: int) -> None:
        event.attributes["team"] = "red"

    event = make_event()
    out = AuditPipeline(enrichers=[forgetful]).run(event, INFO)
    assert out == (event, INFO)
    assert event.attributes["team"] == "red"
    assert len(internal.records) == 1
    assert "returned None instead of (event, level)" in internal.lines[0]
