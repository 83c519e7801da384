"""Filters and enrichers between an event's creation and its log record.

Every form the documentation or the original accepts works (docs/compatibility.md D4):
- a callable `(event, level) -> (event, level) | None`: a filter returning None drops
  the event (an enricher returning None keeps it, reported), the returned level is
  used, and the callable may add to `event.attributes`;
- the original's objects: `.filter(event) -> bool` and `.enrich(event) -> Mapping`;
- a class of either kind (instantiated with no arguments) or a dotted path to one.
An extension that raises or returns nonsense is skipped and reported (B2); the event
is kept. The identity attributes cannot be changed by any extension.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from sec_audit.core.errors import AuditConfigurationError
from sec_audit.core.events import PROTECTED_KEYS, AuditEvent
from sec_audit.core.imports import import_string

from . import diagnostics

__all__ = [
    "PROTECTED_KEYS",
    "AuditEnricher",
    "AuditFilter",
    "AuditPipeline",
    "Extension",
    "resolve_extension",
]

_MISSING: Any = object()

Kind = Literal["filter", "enricher"]
Outcome = tuple[AuditEvent, int] | None


@runtime_checkable
class AuditFilter(Protocol):
    """The original's filter protocol: False drops the event."""

    def filter(self, event: AuditEvent) -> bool: ...


@runtime_checkable
class AuditEnricher(Protocol):
    """The original's enricher protocol: the mapping's items become attributes."""

    def enrich(self, event: AuditEvent) -> Mapping[str, Any]: ...


Extension = Callable[[AuditEvent, int], Any] | AuditFilter | AuditEnricher


@dataclass(frozen=True, slots=True)
class _Step:
    kind: Kind
    name: str
    # The bound `.filter`/`.enrich` for the object protocol, else the callable itself.
    call: Callable[..., Any]
    object_protocol: bool


def _name_of(obj: object) -> str:
    target = obj if isinstance(obj, type) or inspect.isroutine(obj) else type(obj)
    module = getattr(target, "__module__", None) or "?"
    return f"{module}.{getattr(target, '__qualname__', type(target).__name__)}"


def resolve_extension(spec: object, kind: Kind) -> object:
    """Dotted path -> object; class -> instance. Config errors raise (fail closed)."""
    obj = import_string(spec) if isinstance(spec, str) else spec
    if isinstance(obj, type):
        try:
            obj = obj()
        except Exception as exc:
            raise AuditConfigurationError(
                f"Cannot instantiate {kind} {_name_of(obj)} with no arguments "
                f"({type(exc).__name__}: {exc})."
            ) from exc
    return obj


def _step(spec: object, kind: Kind) -> _Step:
    obj = resolve_extension(spec, kind)
    method = getattr(obj, "filter" if kind == "filter" else "enrich", None)
    name = spec if isinstance(spec, str) else _name_of(obj)
    if callable(method):
        return _Step(kind, name, method, object_protocol=True)
    if callable(obj):
        return _Step(kind, name, obj, object_protocol=False)
    verb = "filter" if kind == "filter" else "enrich"
    raise AuditConfigurationError(
        f"The {kind} {name!r} is neither a callable (event, level) nor an object with .{verb}(event)."
    )


def _is_level(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class AuditPipeline:
    """Filters (in order, may drop) then enrichers (in order, may add)."""

    __slots__ = ("steps",)

    def __init__(self, filters: Iterable[object] = (), enrichers: Iterable[object] = ()) -> None:
        # Read directly by `emission.emit_event` (an empty tuple: nothing to run).
        self.steps: tuple[_Step, ...] = tuple(
            [_step(f, "filter") for f in filters] + [_step(e, "enricher") for e in enrichers]
        )

    def __bool__(self) -> bool:
        return bool(self.steps)

    def run(self, event: AuditEvent, level: int) -> Outcome:
        """(event, level) to log, or None when a filter dropped the event."""
        for step in self.steps:
            outcome = self._run_step(step, event, level)
            if outcome is None:
                return None
            event, level = outcome
        return event, level

    def _run_step(self, step: _Step, event: AuditEvent, level: int) -> Outcome:
        guard = _Guard(event)
        try:
            if step.object_protocol:
                result = step.call(event)
                outcome: Outcome = (
                    _filter_result(step, result, event, level)
                    if step.kind == "filter"
                    else _enrich_result(step, result, event, level)
                )
            else:
                outcome = _callable_result(step, step.call(event, level), event, level)
        except Exception as exc:
            _failed(step, "raised", exc=exc)
            outcome = (event, level)
        if outcome is not None:
            guard.restore(step, outcome[0])
        return outcome


class _Guard:
    """Snapshot of the protected attributes, restored after an extension ran."""

    __slots__ = ("event", "saved")

    def __init__(self, event: AuditEvent) -> None:
        self.event = event
        attrs = event.attributes
        self.saved = {key: attrs.get(key, _MISSING) for key in PROTECTED_KEYS}

    def restore(self, step: _Step, event: AuditEvent) -> None:
        attrs = event.attributes
        touched: list[str] = []
        for key, original in self.saved.items():
            current = attrs.get(key, _MISSING)
            if current is original:
                continue
            if original is _MISSING:
                del attrs[key]
            else:
                try:
                    same = type(current) is type(original) and current == original
                except Exception:
                    same = False
                if same:
                    continue
                attrs[key] = original
            touched.append(key)
        if touched:
            diagnostics.report(
                "audit.extension_protected_key",
                f"{step.kind} {step.name} tried to change {', '.join(sorted(touched))}; restored",
            )


def _failed(step: _Step, what: str, *, exc: BaseException | None = None) -> None:
    reason = "audit.filter_failed" if step.kind == "filter" else "audit.enricher_failed"
    diagnostics.report(reason, f"{step.kind} {step.name} {what}; skipped, event kept", exc=exc)


def _type_name(value: object) -> str:
    return type(value).__name__


def _filter_result(step: _Step, result: object, event: AuditEvent, level: int) -> Outcome:
    if result is True:
        return event, level
    if result is False:
        return None
    _failed(step, f"returned {_type_name(result)} instead of bool")
    return event, level


def _enrich_result(step: _Step, result: object, event: AuditEvent, level: int) -> Outcome:
    if result is None:
        return event, level
    if not isinstance(result, Mapping):
        _failed(step, f"returned {_type_name(result)} instead of a mapping")
        return event, level
    _add(step, event, result)
    return event, level


def _add(step: _Step, event: AuditEvent, additions: Mapping[Any, Any]) -> None:
    """Copy str, non-protected items; the rest is reported and ignored."""
    attrs = event.attributes
    ignored: list[str] = []
    for key, value in list(additions.items()):
        if isinstance(key, str) and key not in PROTECTED_KEYS:
            attrs[key] = value
        else:
            ignored.append(key if isinstance(key, str) else f"<{_type_name(key)} key>")
    if ignored:
        diagnostics.report(
            "audit.extension_protected_key",
            f"{step.kind} {step.name} returned keys that cannot be set: "
            f"{', '.join(sorted(ignored)[:10])}; ignored",
        )


def _callable_result(step: _Step, result: object, event: AuditEvent, level: int) -> Outcome:
    if result is None:
        if step.kind == "filter":
            return None
        # Only filters may drop: an enricher that forgot its `return` must not silently
        # lose every audit event. Its mutations are kept; the operator is told.
        _failed(step, "returned None instead of (event, level)")
        return event, level
    if isinstance(result, bool):
        return (event, level) if result else None
    if isinstance(result, tuple) and len(result) == 2:
        new_event, new_level = result
        if not isinstance(new_event, AuditEvent):
            _failed(step, f"returned ({_type_name(new_event)}, ...) instead of an AuditEvent")
            return event, level
        if not _is_level(new_level):
            _failed(step, f"returned level of type {_type_name(new_level)}; level kept")
            new_level = level
        if (new_event.event_type, new_event.schema_version) != (
            event.event_type,
            event.schema_version,
        ):
            diagnostics.report(
                "audit.extension_protected_key",
                f"{step.kind} {step.name} returned an event of another type; original kept",
            )
            return event, new_level
        return new_event, new_level
    if step.kind == "enricher" and isinstance(result, Mapping):
        _add(step, event, result)
        return event, level
    _failed(step, f"returned {_type_name(result)} instead of (event, level) or None")
    return event, level
