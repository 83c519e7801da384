"""Fixtures: a private rsyslogd per test module (see _rsyslog.py); fails without rsyslogd."""

from __future__ import annotations

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
