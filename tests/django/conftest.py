"""Fixtures for the Django integration tests.

`audit` captures the real lines: a handler with the real formatter
(`audit_jsonl_formatter()`) writing to a StringIO, attached to `sec_audit.audit`.
`audit.configure({...})` sets SEC_AUDIT (through pytest-django's `settings`, so the
runtime is rebuilt exactly as `override_settings` does it in users' tests).
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from sec_audit.logging import diagnostics

SECRETS = (
    "hunter2",
    "sk_live_SHOULDNOTLEAK",
    "AKIAIOSFODNN7EXAMPLE",
    "s3cr3t-value",
    "tok-123-secret",
)


class AuditCapture:
    """The lines written to `sec_audit.audit` during one test."""

    def __init__(self, settings: Any) -> None:
        from sec_audit.django.logging.formatters import audit_jsonl_formatter

        self._settings = settings
        self.stream = io.StringIO()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.setFormatter(audit_jsonl_formatter())
        self.logger = logging.getLogger("sec_audit.audit")
        self.logger.addHandler(self.handler)

    def configure(self, sec_audit: dict[str, Any] | None = None, **formatter: Any) -> None:
        """Set SEC_AUDIT (the runtime and the formatter follow) and clear the lines."""
        from sec_audit.django.logging.formatters import audit_jsonl_formatter

        self._settings.SEC_AUDIT = sec_audit if sec_audit is not None else {}
        if formatter:
            self.handler.setFormatter(audit_jsonl_formatter(**formatter))
        self.clear()

    def clear(self) -> None:
        self.stream.seek(0)
        self.stream.truncate()

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[str]:
        text = self.text
        assert text == "" or text.endswith("\n"), "every line ends with a newline"
        return text.splitlines()

    def events(self) -> list[dict[str, Any]]:
        out = []
        for line in self.lines():
            assert line.isascii(), "lines are pure ASCII (ensure_ascii)"
            out.append(json.loads(line))
        return out

    def one(self, event_type: str | None = None) -> dict[str, Any]:
        events = self.events()
        if event_type is not None:
            events = [e for e in events if e["attributes"]["event_type"] == event_type]
        assert len(events) == 1, f"expected one line, got {len(events)}: {self.text}"
        return events[0]

    def attrs(self, event_type: str | None = None) -> dict[str, Any]:
        return self.one(event_type)["attributes"]

    def types(self) -> list[str]:
        return [e["attributes"]["event_type"] for e in self.events()]

    def assert_no_secrets(self, *extra: str) -> None:
        for secret in SECRETS + extra:
            assert secret not in self.text, f"secret {secret!r} leaked: {self.text}"

    def close(self) -> None:
        self.logger.removeHandler(self.handler)


@pytest.fixture
def audit(settings: Any) -> Iterator[AuditCapture]:
    capture = AuditCapture(settings)
    try:
        yield capture
    finally:
        capture.close()


class DiagnosticCapture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def reasons(self) -> list[str]:
        return [getattr(r, "audit_reason", "") for r in self.records]


@pytest.fixture
def internal() -> Iterator[DiagnosticCapture]:
    """Records on `sec_audit.internal` (windows reset so every reason is seen)."""
    diagnostics.reset()
    handler = DiagnosticCapture()
    logger = logging.getLogger(diagnostics.INTERNAL_LOGGER_NAME)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        diagnostics.reset()


@pytest.fixture
def user(db: Any) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user("alice", "alice@example.test", "hunter2")
