"""System checks (`manage.py check`, tag `security`); every id is in docs/django.md."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from sec_audit.core.config import SecAuditSettings
from sec_audit.core.errors import AuditConfigurationError

__all__ = ["AUDIT_MIDDLEWARE", "check_sec_audit"]

AUDIT_MIDDLEWARE = "sec_audit.django.middleware.AuditMiddleware"
SESSION_MIDDLEWARE = "django.contrib.sessions.middleware.SessionMiddleware"
AUTH_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"
_BEFORE_AUDIT = (SESSION_MIDDLEWARE, AUTH_MIDDLEWARE)


def _is_audit_middleware(path: str) -> bool:
    if path == AUDIT_MIDDLEWARE:
        return True
    try:
        from .middleware import AuditMiddleware

        cls = import_string(path)
        return isinstance(cls, type) and issubclass(cls, AuditMiddleware)
    except Exception:
        return False


def _middleware_checks(middleware: list[str]) -> list[Any]:
    positions = [i for i, path in enumerate(middleware) if _is_audit_middleware(path)]
    if not positions:
        return [
            Error(
                f"{AUDIT_MIDDLEWARE} is not in MIDDLEWARE: HTTP requests are not audited.",
                hint=f"Add '{AUDIT_MIDDLEWARE}' after the session and authentication middleware.",
                id="sec_audit.E001",
            )
        ]
    audit_at = positions[0]
    return [
        Error(
            f"{path} is listed after AuditMiddleware: the audit cannot see "
            "the session or the user.",
            hint=f"Move '{AUDIT_MIDDLEWARE}' below '{path}'.",
            id="sec_audit.E002",
        )
        for path in _BEFORE_AUDIT
        if path in middleware and middleware.index(path) > audit_at
    ]


def _audit_formatter_present() -> bool:
    from sec_audit.logging.formatters import JSONLLogFormatter

    logger: logging.Logger | None = logging.getLogger("sec_audit.audit")
    while logger is not None:
        if any(isinstance(h.formatter, JSONLLogFormatter) for h in logger.handlers):
            return True
        if not logger.propagate:
            return False
        logger = logger.parent  # type: ignore[assignment]
    return False


def _installed(app: str, module: str) -> bool:
    from .runtime import package_installed

    return package_installed(app, module)


def _settings_checks(config: SecAuditSettings) -> list[Any]:
    messages: list[Any] = []
    django = config.django
    if django.drf_enabled is True and not _installed("rest_framework", "rest_framework"):
        messages.append(
            Error(
                "SEC_AUDIT['django']['drf_enabled'] is True but rest_framework is not "
                "installed (importable and in INSTALLED_APPS).",
                hint="Install djangorestframework and add 'rest_framework' to INSTALLED_APPS, "
                "or leave drf_enabled unset (auto).",
                id="sec_audit.E004",
            )
        )
    core = config.core
    if not core.log_request_bodies and (core.log_body_paths or core.body_field_allowlist):
        given = [
            key
            for key, value in (
                ("log_body_paths", core.log_body_paths),
                ("body_field_allowlist", core.body_field_allowlist),
            )
            if value
        ]
        messages.append(
            Warning(
                f"SEC_AUDIT['core'] sets {', '.join(given)} but log_request_bodies is False: "
                "no request body is captured.",
                hint="Set SEC_AUDIT['core']['log_request_bodies'] = True, or remove the "
                "body capture settings.",
                id="sec_audit.W005",
            )
        )
    if django.model_events_enabled is True and not _installed("auditlog", "auditlog"):
        messages.append(
            Error(
                "SEC_AUDIT['django']['model_events_enabled'] is True but auditlog is not "
                "installed (importable and in INSTALLED_APPS).",
                hint="Install django-auditlog and add 'auditlog' to INSTALLED_APPS, "
                "or leave model_events_enabled unset (auto).",
                id="sec_audit.E006",
            )
        )
    return messages


def _engine_check() -> list[Any]:
    from sec_audit.core.engine import ENGINE_ENV_VAR, native_available

    if os.environ.get(ENGINE_ENV_VAR) or native_available():
        return []
    return [
        Warning(
            "The native audit engine (sec_audit._native) is not available; the pure-Python "
            "reference engine is in use (identical output, slower).",
            hint=f"Install a platform wheel, or set {ENGINE_ENV_VAR}=python to state "
            "that the Python engine is intended.",
            id="sec_audit.W008",
        )
    ]


def _security_hook_check() -> list[Any]:
    """W009: Django's rejections of suspicious requests reach our security hook."""
    from .security_hook import installed_handlers

    problem = None
    for name in ("django.security", "django.security.DisallowedHost"):
        logger = logging.getLogger(name)
        if logger.disabled:
            problem = f"the '{name}' logger is disabled"
        elif not logger.isEnabledFor(logging.ERROR):
            level = logging.getLevelName(logger.getEffectiveLevel())
            problem = f"the '{name}' logger drops ERROR records (effective level {level})"
        else:
            node: logging.Logger | None = logger
            while node is not None and not installed_handlers(node):
                node = node.parent if node.propagate else None  # type: ignore[assignment]
            if node is None:
                problem = f"the audit handler is not attached to '{name}'"
        if problem:
            break
    if problem is None:
        return []
    return [
        Warning(
            "Requests Django rejects as suspicious before AuditMiddleware runs "
            f"(DisallowedHost, RequestDataTooBig, ...) are not audited: {problem}.",
            hint="Keep the 'django.security' loggers at ERROR or below, and call "
            "sec_audit.django.security_hook.install() after reconfiguring logging.",
            id="sec_audit.W009",
        )
    ]


def _delivery_check() -> list[Any]:
    """W010: every audit handler writes whole lines across processes (docs/delivery.md)."""
    from sec_audit.logging import delivery

    # Recognised handlers count as safe: ready() installs the path, and so does
    # delivery.install() after logging is reconfigured (the check changes nothing).
    unsafe = delivery.unsafe_handlers()
    if not unsafe:
        return []
    names = ", ".join(sorted({f"{type(h).__module__}.{type(h).__qualname__}" for h in unsafe}))
    return [
        Warning(
            f"The audit logger writes through handlers that cannot be made safe for "
            f"several worker processes ({names}): lines may be torn or lost.",
            hint="Use a stdlib StreamHandler/FileHandler/rotating handler (made safe at "
            "start-up) or a class from sec_audit.logging.delivery, or put "
            "sec_audit.logging.handlers.QueuedJSONLHandler in front.",
            id="sec_audit.W010",
        )
    ]


@register(Tags.security)
def check_sec_audit(app_configs: Iterable[Any] | None = None, **kwargs: Any) -> list[Any]:
    """All sec_audit checks; settings are parsed fresh (checks may run after changes)."""
    messages = _middleware_checks(list(getattr(settings, "MIDDLEWARE", None) or []))
    if not _audit_formatter_present():
        messages.append(
            Warning(
                "No handler of the 'sec_audit.audit' logger (or of the ancestors it "
                "propagates to) uses JSONLLogFormatter: audit events are not written as "
                "JSON lines.",
                hint="Give a handler the formatter "
                "{'()': 'sec_audit.django.logging.formatters.audit_jsonl_formatter'}.",
                id="sec_audit.W003",
            )
        )
    try:
        config = SecAuditSettings.from_value(getattr(settings, "SEC_AUDIT", None))
    except (AuditConfigurationError, ImproperlyConfigured) as exc:
        messages.append(Error(str(exc), id="sec_audit.E007"))
    else:
        messages.extend(_settings_checks(config))
    messages.extend(_engine_check())
    messages.extend(_security_hook_check())
    messages.extend(_delivery_check())
    return messages
