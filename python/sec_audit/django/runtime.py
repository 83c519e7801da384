"""The Django runtime: `SEC_AUDIT` parsed once, the engine, the pipeline, emission.

`get_runtime()` builds it on first use and caches it; a `setting_changed` receiver
drops the cache when `SEC_AUDIT` (or `INSTALLED_APPS`) changes, so
`override_settings(SEC_AUDIT=...)` works in users' tests. Everything the request path
needs per request is precomputed here as plain attributes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

from sec_audit.core.config import SecAuditSettings
from sec_audit.core.engine import Engine, EngineConfig, build_engine
from sec_audit.core.errors import AuditConfigurationError
from sec_audit.core.events import AuditEvent
from sec_audit.logging import diagnostics
from sec_audit.logging.emission import AUDIT_LOGGER_NAME, LoggingRuntime
from sec_audit.logging.pipeline import AuditPipeline

from .request import QueryRedactor

__all__ = [
    "DjangoLoggingRuntime",
    "RuleEventConsumer",
    "get_runtime",
    "on_settings_reset",
    "package_installed",
    "parsed_settings",
    "register_rule_event_consumer",
    "reset_runtime",
    "set_runtime",
    "shared_engine",
    "unregister_rule_event_consumer",
]

RuleEventConsumer = Callable[[AuditEvent], Any]

_lock = threading.RLock()
_runtime: DjangoLoggingRuntime | None = None
_settings: SecAuditSettings | None = None
_engines: dict[tuple[int, str | None], tuple[SecAuditSettings, Engine]] = {}
_consumers: list[RuleEventConsumer] = []
_reset_listeners: list[Callable[[], None]] = []


def parsed_settings() -> SecAuditSettings:
    """`settings.SEC_AUDIT` parsed (once); `ImproperlyConfigured` naming the key if bad."""
    global _settings
    current = _settings
    if current is None:
        try:
            current = SecAuditSettings.from_value(getattr(settings, "SEC_AUDIT", None))
        except AuditConfigurationError as exc:
            raise ImproperlyConfigured(str(exc)) from exc
        _settings = current
    return current


def shared_engine(config: SecAuditSettings, kind: str | None = None) -> Engine:
    """One compiled engine per parsed settings (shared by the runtime and the formatters).

    The cache keeps the settings object alive beside its engine, so an id is never
    reused for other settings while its entry exists.
    """
    key = (id(config), kind)
    with _lock:
        cached = _engines.get(key)
        if cached is not None and cached[0] is config:
            return cached[1]
        engine = _compile(config, kind)
        _engines[key] = (config, engine)
        return engine


def _compile(config: SecAuditSettings, kind: str | None) -> Engine:
    cfg = EngineConfig.from_settings(config.core, config.logging.projection_limits)
    try:
        return build_engine(cfg, kind)
    except AuditConfigurationError as exc:
        raise ImproperlyConfigured(str(exc)) from exc


def package_installed(app: str, module: str) -> bool:
    """In INSTALLED_APPS and importable (D2/D3 auto-detection)."""
    if not apps.is_installed(app):
        return False
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def _feature(flag: bool | None, app: str, module: str) -> bool:
    # None = auto; True = required (a missing package is a system check error, not a crash).
    return False if flag is False else package_installed(app, module)


class DjangoLoggingRuntime:
    """Settings, engine, pipeline and emitter bound together once."""

    def __init__(
        self,
        config: object = None,
        *,
        logger: logging.Logger | None = None,
        engine: Engine | None = None,
        engine_kind: str | None = None,
    ) -> None:
        try:
            self.config = SecAuditSettings.from_value(config)
            django = self.config.django
            self.pipeline = AuditPipeline(django.filters, django.enrichers)
        except AuditConfigurationError as exc:
            raise ImproperlyConfigured(str(exc)) from exc
        self.engine: Engine = (
            engine if engine is not None else shared_engine(self.config, engine_kind)
        )
        self.logger = logger if logger is not None else logging.getLogger(AUDIT_LOGGER_NAME)
        self.emitter = LoggingRuntime(self.config, self.logger, self.pipeline)
        core = self.config.core
        # Hot-path copies (one attribute read each per request).
        self.schema_version = self.config.logging.schema_version
        self.ignore_paths = core.ignore_paths
        self.ignore_status_codes = core.ignore_status_codes
        self.log_ok_responses = core.log_ok_responses
        self.sample_rate = core.sample_rate
        self.log_request_bodies = core.log_request_bodies
        self.include_usernames = django.include_usernames
        self.emit_session_id = django.emit_session_id
        self.proxy_networks = django.trusted_proxy_networks
        self.proxy_count = django.trusted_proxy_count
        self.query_redactor = (
            QueryRedactor(
                core.sensitive_keys, core.sensitive_key_allowlist, core.sensitive_key_sets
            )
            if core.log_url_query
            else None
        )
        self.drf_active = _feature(django.drf_enabled, "rest_framework", "rest_framework")
        self.model_events_active = _feature(django.model_events_enabled, "auditlog", "auditlog")

    def record(self, event: AuditEvent, level: int, *, owned: bool = False) -> bool:
        """Emit `event`; never raises. Rule-event consumers see it whatever happened.

        `owned=True`: the caller drops `event` after this call, so without consumers
        to hand it to, the record may carry `event` itself (stamped) instead of a copy.
        """
        consumers = _consumers
        try:
            if owned and not consumers:
                emitted = self.emitter.emit_event(event, level, owned=True)
            else:
                emitted = self.emitter.emit_event(event, level)
        except Exception as exc:
            diagnostics.report("audit.emit_failed", f"{event.event_type} not emitted", exc=exc)
            emitted = False
        if not consumers:
            return emitted
        for consumer in tuple(consumers):
            try:
                consumer(event)
            except Exception as exc:
                diagnostics.report("audit.consumer_failed", "a rule-event consumer raised", exc=exc)
        return emitted

    def register_rule_event_consumer(self, consumer: RuleEventConsumer) -> None:
        register_rule_event_consumer(consumer)

    def unregister_rule_event_consumer(self, consumer: RuleEventConsumer) -> None:
        unregister_rule_event_consumer(consumer)


def register_rule_event_consumer(consumer: RuleEventConsumer) -> None:
    """Hand every recorded event to `consumer(event)` (kept across runtime rebuilds)."""
    with _lock:
        if consumer not in _consumers:
            _consumers.append(consumer)


def unregister_rule_event_consumer(consumer: RuleEventConsumer) -> None:
    with _lock:
        if consumer in _consumers:
            _consumers.remove(consumer)


def get_runtime() -> DjangoLoggingRuntime:
    """The runtime for the current settings (built once, then cached)."""
    runtime = _runtime
    if runtime is None:
        with _lock:
            runtime = _runtime
            if runtime is None:
                runtime = set_runtime(DjangoLoggingRuntime(parsed_settings()))
    return runtime


def set_runtime(runtime: DjangoLoggingRuntime | None) -> DjangoLoggingRuntime:
    """Install `runtime` (tests, benches; None rebuilds from settings on next use)."""
    global _runtime
    with _lock:
        _runtime = runtime
    return runtime  # type: ignore[return-value]


def on_settings_reset(listener: Callable[[], None]) -> None:
    """Call `listener()` when SEC_AUDIT changes (live formatters rebind)."""
    if listener not in _reset_listeners:
        _reset_listeners.append(listener)


def reset_runtime() -> None:
    """Forget the parsed settings, engines and runtime; the next use rebuilds them."""
    global _runtime, _settings
    with _lock:
        _runtime = None
        _settings = None
        _engines.clear()
    for listener in tuple(_reset_listeners):
        listener()


@receiver(setting_changed, dispatch_uid="sec_audit.django.runtime.reset")
def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in ("SEC_AUDIT", "INSTALLED_APPS"):
        reset_runtime()
