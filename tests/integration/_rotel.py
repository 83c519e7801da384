"""A private OTLP receiver (rotel, from PyPI) on loopback for the OTLP handler's tests.

`rotel-agent start --exporter blackhole --debug-log logs --debug-log-verbosity
detailed` prints every log record it decoded; `Receiver.records()` parses that output
into `Decoded` rows (resource, scope and the record's fields as rotel prints them,
e.g. `Int(200)`, `Str(shop)`, `Slice(Str(a), Str(b))`). requirements-dev.txt installs
rotel (the test command's venv has it); a missing receiver is a failure, not a skip.
Ports, pid file and logs are private to the test (tmp_path); every wait is bounded.
"""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

START_TIMEOUT = 20.0
WAIT_TIMEOUT = 30.0
_ATTR = re.compile(r"^\s+-> (?P<key>[^:]+): (?P<value>.*)$")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def agent_path() -> Path:
    spec = importlib.util.find_spec("rotel")
    if spec is None or spec.origin is None:
        pytest.fail("rotel is not installed; pip install -r requirements-dev.txt")
    path = Path(spec.origin).parent / "rotel-agent"
    if not path.exists():
        pytest.fail(f"rotel ships no agent binary at {path}")
    return path


@dataclass
class Decoded:
    resource: dict[str, str]
    scope: str
    fields: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, str] = field(default_factory=dict)


def parse(text: str) -> list[Decoded]:
    """The log records in rotel's detailed debug output."""
    records: list[Decoded] = []
    resource: dict[str, str] = {}
    scope = ""
    section = ""
    current: Decoded | None = None
    for line in text.splitlines():
        if line.startswith("ResourceLog #"):
            resource, section, current = {}, "resource", None
        elif line.startswith("InstrumentationScope "):
            scope = line[len("InstrumentationScope ") :].strip()
        elif line.startswith("LogRecord #"):
            current = Decoded(dict(resource), scope)
            records.append(current)
            section = "record"
        elif line.startswith("Attributes:"):
            section = "attributes"
        elif line.startswith("Resource attributes:"):
            section = "resource"
        elif (match := _ATTR.match(line)) is not None:
            key, value = match["key"], match["value"]
            if section == "resource":
                resource[key] = value
            elif current is not None and section == "attributes":
                current.attributes[key] = value
        elif current is not None and ":" in line:
            key, _, value = line.strip().partition(":")
            current.fields[key.strip()] = value.strip()
    return records


class Receiver:
    def __init__(self, directory: Path, port: int | None = None) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}/v1/logs"
        self.output = directory / "decoded.txt"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        grpc = free_port()
        with open(self.output, "ab") as out:
            self.process = subprocess.Popen(
                [
                    str(agent_path()),
                    "start",
                    "--otlp-http-endpoint",
                    f"127.0.0.1:{self.port}",
                    "--otlp-grpc-endpoint",
                    f"127.0.0.1:{grpc}",
                    "--exporter",
                    "blackhole",
                    "--debug-log",
                    "logs",
                    "--debug-log-verbosity",
                    "detailed",
                    "--pid-file",
                    str(self.directory / "rotel.pid"),
                    "--log-file",
                    str(self.directory / "rotel.log"),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "NO_COLOR": "1"},
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"rotel exited at start: {self.output.read_text(errors='replace')}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        pytest.fail(f"rotel did not listen on 127.0.0.1:{self.port} within {START_TIMEOUT}s")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)

    def records(self) -> list[Decoded]:
        return parse(self.output.read_text(errors="replace"))

    def wait_until(self, done: Callable[[list[Decoded]], bool]) -> list[Decoded]:
        """Every record so far, once `done(records)` holds or the bound passed."""
        deadline = time.monotonic() + WAIT_TIMEOUT
        while True:
            records = self.records()
            if done(records) or time.monotonic() > deadline:
                return records
            time.sleep(0.05)

    def wait_for(self, attribute: str, value: str, count: int) -> list[Decoded]:
        """Records whose `attribute` prints as `value`, once `count` arrived (bounded)."""
        records = self.wait_until(
            lambda rows: sum(r.attributes.get(attribute) == value for r in rows) >= count
        )
        return [r for r in records if r.attributes.get(attribute) == value]
