"""`audit_jsonl_formatter`: the LOGGING formatter factory (`'()': '...audit_jsonl_formatter'`).

It runs inside Django's logging set-up, before the apps are ready, so it only parses
`SEC_AUDIT` (once, shared with the runtime) and shares the runtime's compiled engine.
The formatter follows `SEC_AUDIT` changes (`override_settings` in tests): it rebinds
to the new settings on the next record.

A bad `SEC_AUDIT` does not raise here: `logging.config` would bury the message in a
chained `ValueError: Unable to configure formatter ...`. The formatter keeps the
error; `SecAuditConfig.ready()` raises the `ImproperlyConfigured` naming the key as
the last line of start-up. Without the app, the first record reports the error on
`sec_audit.internal` and is written as `audit.logging.malformed_record` (never with
settings the project did not ask for).
"""

from __future__ import annotations

import logging
import threading
import weakref
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from sec_audit.logging import diagnostics
from sec_audit.logging.formatters import JSONLLogFormatter

from ..runtime import on_settings_reset, parsed_settings, shared_engine

__all__ = ["SCOPE_NAME", "DjangoJSONLFormatter", "audit_jsonl_formatter"]

SCOPE_NAME = "sec_audit.django"

_live: weakref.WeakSet[DjangoJSONLFormatter] = weakref.WeakSet()
_live_lock = threading.Lock()


class DjangoJSONLFormatter(JSONLLogFormatter):
    """A `JSONLLogFormatter` bound to the resolved `SEC_AUDIT` settings."""

    record_free = True  # reads no more of a record than JSONLLogFormatter.format

    def __init__(self, **kwargs: Any) -> None:
        self._kwargs = dict(kwargs)
        self._stale = False
        self.config_error: ImproperlyConfigured | None = None
        try:
            self._bind()
        except ImproperlyConfigured as exc:
            self._unbound(exc)
        with _live_lock:
            _live.add(self)

    def _bind(self) -> None:
        kwargs = dict(self._kwargs)
        kwargs.setdefault("scope_name", SCOPE_NAME)
        if "settings" not in self._kwargs:
            config = parsed_settings()
            kwargs["settings"] = config
            if "engine" not in kwargs:
                kwargs["engine"] = shared_engine(config)
        super().__init__(**kwargs)

    def _unbound(self, exc: ImproperlyConfigured) -> None:
        # Defaults only so the fallback line can be written; no record is rendered
        # with them while `config_error` is set.
        self.config_error = exc
        kwargs = {k: v for k, v in self._kwargs.items() if k not in ("settings", "engine")}
        kwargs.setdefault("scope_name", SCOPE_NAME)
        super().__init__(**kwargs)

    def mark_stale(self) -> None:
        self._stale = True

    def format(self, record: logging.LogRecord) -> str:
        if self._stale or self.config_error is not None:
            self._stale = False
            broken = self.config_error is not None
            try:
                self._bind()
            except ImproperlyConfigured as exc:
                if broken:
                    self.config_error = exc
            except Exception:  # keep the old settings; the runtime reports the bad config
                pass
            else:
                self.config_error = None
        if self.config_error is not None:
            diagnostics.report(
                "audit.settings_invalid",
                f"SEC_AUDIT is invalid, audit records are written as malformed_record: "
                f"{self.config_error}",
            )
            line = self._fallback(record, None)
            try:
                return self.finish(line)
            except Exception:
                return line
        return super().format(record)


def _mark_all_stale() -> None:
    with _live_lock:
        formatters = list(_live)
    for formatter in formatters:
        formatter.mark_stale()


on_settings_reset(_mark_all_stale)


def audit_jsonl_formatter(**kwargs: Any) -> JSONLLogFormatter:
    """The audit formatter with the resolved `SEC_AUDIT` settings and scope `sec_audit.django`.

    Extra kwargs (`compact=True`, `source=...`) go to `JSONLLogFormatter`. A bad
    `SEC_AUDIT` does not raise here (see the module docstring): the app's `ready()`
    raises `ImproperlyConfigured` naming the key.
    """
    return DjangoJSONLFormatter(**kwargs)
