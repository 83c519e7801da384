"""Fixtures: a private rsyslogd per test module (see _rsyslog.py; fails without
rsyslogd) and a private logger per test whose handlers are closed afterwards."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from ._rsyslog import RsyslogServer, make_certificate


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path] | None:
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def rsyslog(
    tmp_path_factory: pytest.TempPathFactory, certificate: tuple[Path, Path] | None
) -> Iterator[RsyslogServer]:
    server = RsyslogServer(tmp_path_factory.mktemp("rsyslog"), certificate)
    server.start()
    yield server
    server.stop()


_loggers = itertools.count(1)


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    """A fresh DEBUG logger that does not propagate; its handlers are closed at the end."""
    log = logging.getLogger(f"tests.integration.logger.{next(_loggers)}")
    log.propagate = False
    log.setLevel(logging.DEBUG)
    yield log
    for handler in list(log.handlers):
        log.removeHandler(handler)
        handler.close()
