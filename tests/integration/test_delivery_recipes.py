"""Every `LOGGING` recipe in docs/delivery.md configures and delivers a parseable line.

The recipes are read from the page (each follows a `<!-- recipe: NAME -->` marker), so
the doc and this test cannot drift. Each runs in its own Django process: `LOGGING` is
the recipe with only its placeholders (log directory, syslog host, collector URL)
pointed at this test's private sinks; the process writes one audit event carrying a
password, then exits. The test reads what arrived where the recipe sends it, parses
it, finds the event's marker and the password redacted, and checks that `ready()` left
no audit handler unsafe (check W010's list is empty).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from ._rotel import Receiver

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "delivery.md"
SECRET = "hunter2-recipe"
_RECIPE = re.compile(r"<!-- recipe: (?P<name>[a-z]+) -->\n```python\n(?P<code>.*?)\n```", re.S)

CHILD = r"""
import json, logging, sys
import django
from django.conf import settings

namespace = {}
exec(open(sys.argv[1]).read(), namespace)
settings.configure(
    SECRET_KEY="tests-only",
    INSTALLED_APPS=["sec_audit.django.apps.SecAuditConfig"],
    SEC_AUDIT={"core": {"source": "shop"}},
    LOGGING=namespace["LOGGING"],
)
django.setup()
from sec_audit.core.events import AuditEvent
from sec_audit.logging import delivery
from sec_audit.logging.emission import emit_event

event = AuditEvent(
    "auth.login.failed", "1.0", "auth.login.failed",
    {"request_id": sys.argv[2], "password": sys.argv[4], "n": 7},
)
assert emit_event(logging.getLogger("sec_audit.audit"), event, logging.WARNING)
with open(sys.argv[3], "w") as status:
    handlers = delivery.audit_handlers()
    json.dump({"unsafe": [type(h).__name__ for h in delivery.unsafe_handlers()],
               "handlers": [type(h).__name__ for h in handlers],
               "safe": [delivery.is_safe(h) for h in handlers]}, status)
"""


def recipes() -> dict[str, str]:
    found = {m["name"]: m["code"] for m in _RECIPE.finditer(DOC.read_text())}
    assert set(found) == {"stdout", "file", "rotating", "queue", "syslog", "otlp"}, found
    return found


def _placeholder(code: str, old: str, new: str) -> str:
    assert old in code, f"the recipe no longer contains {old!r}: update this test"
    return code.replace(old, new)


def run_recipe(tmp_path: Path, code: str) -> tuple[str, str, dict[str, list[str]]]:
    marker = uuid.uuid4().hex
    recipe = tmp_path / "recipe.py"
    recipe.write_text(code)
    status = tmp_path / "status.json"
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(recipe), marker, str(status), SECRET],
        cwd=tmp_path,
        env={
            **os.environ,
            "PYTHONPATH": f"{ROOT / 'python'}:{ROOT}",
            "SEC_AUDIT_LOCK_DIR": str(tmp_path / "locks"),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return marker, proc.stdout, json.loads(status.read_text())


def check_line(line: str, marker: str) -> None:
    record = json.loads(line)
    assert record["attributes"]["request_id"] == marker
    assert record["attributes"]["password"] == "[REDACTED]"
    assert record["resource"] == {"service.name": "shop"}
    assert SECRET not in line


@pytest.mark.parametrize("name", ["stdout", "queue"])
def test_stdout_recipes(tmp_path: Path, name: str) -> None:
    marker, out, status = run_recipe(tmp_path, recipes()[name])
    assert status["unsafe"] == []
    (line,) = out.splitlines()
    check_line(line, marker)


@pytest.mark.parametrize("name", ["file", "rotating"])
def test_file_recipes(tmp_path: Path, name: str) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    code = _placeholder(recipes()[name], "/var/log/shop/", f"{logs}/")
    marker, out, status = run_recipe(tmp_path, code)
    assert status["unsafe"] == [] and status["handlers"]
    assert out == ""
    (line,) = (logs / "sec-audit.jsonl").read_text().splitlines()
    check_line(line, marker)


def test_syslog_recipe(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server:
        server.bind(("127.0.0.1", 0))
        server.settimeout(30)
        code = _placeholder(recipes()["syslog"], "'siem.internal'", "'127.0.0.1'")
        code = _placeholder(code, "'port': 514", f"'port': {server.getsockname()[1]}")
        marker, _, status = run_recipe(tmp_path, code)
        datagram = server.recv(65535).decode()
    assert status["unsafe"] == []
    header, _, msg = datagram.partition(" - ")
    assert header.startswith("<132>1 ")  # local0 (16) * 8 + warning (4)
    assert " shop " in header and header.endswith(" auth.login.failed")
    check_line(msg, marker)


def test_otlp_recipe(tmp_path: Path) -> None:
    receiver = Receiver(tmp_path / "rotel")
    receiver.start()
    try:
        code = _placeholder(
            recipes()["otlp"], "'http://otel-collector:4318/v1/logs'", repr(receiver.endpoint)
        )
        marker, _, status = run_recipe(tmp_path, code)  # exported at exit (flush)
        (row,) = receiver.wait_for("request_id", f"Str({marker})", 1)
    finally:
        receiver.stop()
    assert status["unsafe"] == [] and status["handlers"] == ["OtlpLogHandler"]
    assert row.attributes["password"] == "Str([REDACTED])"
    assert row.attributes["n"] == "Int(7)"
    assert row.resource == {
        "service.name": "Str(shop)",
        "deployment.environment": "Str(production)",
    }
    assert SECRET not in receiver.output.read_text(errors="replace")


def test_loki_init_logging_writes_the_file_alloy_tails(tmp_path: Path) -> None:
    # sec-audit-loki-init's django_logging.py, loaded as Django's LOGGING, writes through
    # the safe path into the very file its alloy/config.alloy tails.
    from sec_audit.logging.loki import cli

    target = tmp_path / "monitoring"
    argv = [str(target), "--app-label", "shop", "--audit-log-path", "../logs/audit.jsonl"]
    assert cli.main(argv) == 0
    (tmp_path / "logs").mkdir()
    marker, out, status = run_recipe(tmp_path, (target / "django_logging.py").read_text())
    assert status == {"unsafe": [], "handlers": ["RotatingFileHandler"], "safe": [True]}
    assert out == ""
    (line,) = (tmp_path / "logs" / "audit.jsonl").read_text().splitlines()
    check_line(line, marker)
    alloy = (target / "alloy" / "config.alloy").read_text()
    assert '"__path__" = "/var/log/sec-audit/audit.jsonl"' in alloy
    # docker compose mounts that directory (relative to the compose file) there.
    compose = (target / "docker-compose.yml").read_text()
    assert 'source: "../logs"\n        target: /var/log/sec-audit\n' in compose
    assert (target / "../logs").resolve() == (tmp_path / "logs").resolve()
