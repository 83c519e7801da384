"""The documented set-ups (seed page Quick Start, how-to-use 1, 10, 13) end to end."""

from __future__ import annotations

import json
import logging
import logging.config
import logging.handlers

import pytest

pytestmark = pytest.mark.django_db


def _configure(handlers, loggers, formatters):
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": formatters,
            "handlers": handlers,
            "loggers": loggers,
        }
    )


@pytest.fixture
def restore_loggers():
    names = ("sec_audit", "sec_audit.audit")
    saved = {
        n: (
            logging.getLogger(n).handlers[:],
            logging.getLogger(n).level,
            logging.getLogger(n).propagate,
        )
        for n in names
    }
    yield
    for name, (handlers, level, propagate) in saved.items():
        logger = logging.getLogger(name)
        for handler in logger.handlers:
            if handler not in handlers:
                handler.close()
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


def test_rotating_file_handler_recipe(client, settings, tmp_path, restore_loggers):
    # how-to-use section 10 (and 1): a RotatingFileHandler with the audit formatter.
    settings.SEC_AUDIT = {"core": {"source": "myapp"}}
    path = tmp_path / "sec-audit.jsonl"
    _configure(
        {
            "audit_file": {
                "class": "logging.handlers.RotatingFileHandler",
                "filename": str(path),
                "maxBytes": 10 * 1024 * 1024,
                "backupCount": 3,
                "formatter": "audit_jsonl",
            }
        },
        {"sec_audit.audit": {"handlers": ["audit_file"], "level": "INFO", "propagate": False}},
        {"audit_jsonl": {"()": "sec_audit.django.logging.formatters.audit_jsonl_formatter"}},
    )
    client.get("/nonexistent/")
    for handler in logging.getLogger("sec_audit.audit").handlers:
        handler.flush()
    (line,) = path.read_text().splitlines()
    event = json.loads(line)
    assert event["attributes"]["event_type"] == "http.response.client_error"
    assert event["resource"] == {"service.name": "myapp"}


def test_console_recipe_with_the_plain_formatter(client, settings, restore_loggers, capsys):
    # how-to-use section 13: the bare JSONLLogFormatter on the `sec_audit` logger.
    _configure(
        {
            "audit_console": {
                "level": "INFO",
                "class": "logging.StreamHandler",
                "formatter": "audit_json",
                "stream": "ext://sys.stdout",
            }
        },
        {"sec_audit": {"handlers": ["audit_console"], "level": "INFO", "propagate": False}},
        {"audit_json": {"()": "sec_audit.logging.formatters.JSONLLogFormatter"}},
    )
    logging.getLogger("sec_audit.audit").propagate = True
    client.get("/nonexistent/")
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    (event,) = [e for e in lines if e["attributes"]["event_type"] == "http.response.client_error"]
    assert event["instrumentation_scope"]["name"] == "sec_audit.logging"
    assert event["resource"] == {"service.name": "sec-audit"}
