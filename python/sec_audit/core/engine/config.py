"""`EngineConfig`: everything an engine compiles once, derived from the settings."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from ..config import key_set_words
from ..errors import AuditConfigurationError
from .detectors import DETECTOR_NAMES, RECOMMENDED
from .python.keys import normalise_key

if TYPE_CHECKING:
    from ..config import CoreAuditConfig, ProjectionLimits

__all__ = ["MAX_BODY_NESTING", "EngineConfig"]

MAX_BODY_NESTING = 256
ScrubMode = Literal["value", "match"]


def _default_limits() -> ProjectionLimits:
    from ..config import ProjectionLimits

    return ProjectionLimits()


def _normalised(entries: Iterable[str]) -> tuple[str, ...]:
    # Empty entries would match every key as a substring; they never match anything.
    return tuple(n for n in (normalise_key(e) for e in entries) if n)


def _detector_names(names: str | Iterable[str]) -> tuple[str, ...]:
    chosen = {names} if isinstance(names, str) else set(names)
    if RECOMMENDED in chosen:
        chosen = set(DETECTOR_NAMES)
    unknown = sorted(chosen.difference(DETECTOR_NAMES))
    if unknown:
        raise AuditConfigurationError(
            f"secret_detectors has unknown detector(s): {', '.join(unknown)}. "
            f"Valid: {', '.join(DETECTOR_NAMES)}."
        )
    return tuple(name for name in DETECTOR_NAMES if name in chosen)


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """The engine's compiled-once view of `core` + `ProjectionLimits` (docs/engine.md).

    Direct construction normalises too, so two configs with the same meaning compare
    equal and both engines receive identical key tables.
    """

    sensitive_keys: tuple[str, ...] = ()
    key_allowlist: frozenset[str] = frozenset()
    value_patterns: tuple[re.Pattern[str], ...] = ()
    secret_detectors: tuple[str, ...] = ()
    value_scrub_mode: ScrubMode = "value"
    limits: ProjectionLimits = field(default_factory=_default_limits)
    max_body_bytes: int = 4096
    body_field_allowlist: tuple[str, ...] = ()
    # Whole-token key entries (core.sensitive_key_sets), normalised like sensitive_keys.
    key_tokens: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "sensitive_keys", _normalised(self.sensitive_keys))
        set_(self, "key_tokens", _normalised(self.key_tokens))
        set_(self, "key_allowlist", frozenset(_normalised(self.key_allowlist)))
        set_(self, "value_patterns", tuple(self.value_patterns))
        set_(self, "secret_detectors", _detector_names(self.secret_detectors))
        set_(self, "body_field_allowlist", tuple(self.body_field_allowlist))
        if self.value_scrub_mode not in ("value", "match"):
            raise AuditConfigurationError(
                f"value_scrub_mode must be 'value' or 'match', not {self.value_scrub_mode!r}."
            )
        for pattern in self.value_patterns:
            if not isinstance(pattern, re.Pattern) or not isinstance(pattern.pattern, str):
                raise AuditConfigurationError(
                    f"value patterns must be compiled str patterns, not {pattern!r}."
                )

    @classmethod
    def from_settings(cls, core: CoreAuditConfig, limits: ProjectionLimits) -> EngineConfig:
        return cls(
            sensitive_keys=core.sensitive_keys,
            key_allowlist=frozenset(core.sensitive_key_allowlist),
            value_patterns=core.sensitive_value_patterns,
            secret_detectors=core.secret_detectors,
            value_scrub_mode=core.value_scrub_mode,
            limits=limits,
            max_body_bytes=core.max_body_bytes,
            body_field_allowlist=core.body_field_allowlist,
            key_tokens=key_set_words(core.sensitive_key_sets),
        )
