"""No value pattern can pin a worker, on either engine (issue 8, item 4).

Each case runs in a subprocess with a generous hang guard (a hang fails the test; no
assertion is made about speed). Through `SEC_AUDIT` the catastrophic patterns of the
issue are refused at start-up with an error naming the key; given to the engine
directly (no start-up check) they still answer: the exact answer where the bound was
not hit, `[REDACTED]` where it was. A pattern the start-up check cannot see through,
`(a|.)*(?<=c)`, goes all the way through Django body capture: the request is logged
with the value failed closed and one rate-limited `audit.pattern_limit` diagnostic.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sec_audit.core.engine import native_available

ROOT = Path(__file__).resolve().parents[2]
HANG_GUARD = 120  # seconds: only a hang gets near this
ENGINES = ["native", "python"] if native_available() else ["python"]
CATASTROPHIC = [r"(a+)+$", r"^(?=a)(a+)+$", r"(\w+)+\1$"]

_ENGINE_CASE = r"""
import json, re, sys
from sec_audit.core.config import SecAuditSettings
from sec_audit.core.engine import EngineConfig, build_engine
from sec_audit.core.errors import AuditConfigurationError

pattern, n, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3]
try:
    SecAuditSettings.from_value({"core": {"sensitive_value_patterns": [pattern]}})
    refused = None
except AuditConfigurationError as exc:
    refused = str(exc)
value = "a" * n + "!"
out = {"refused": refused}
for mode in ("value", "match"):
    engine = build_engine(
        EngineConfig(
            value_patterns=(re.compile(pattern),), value_scrub_mode=mode, max_body_bytes=65536
        ),
        kind,
    )
    line = json.loads(engine.render({"attributes": {"note": value}}))
    body = engine.capture_body(json.dumps({"note": value}).encode())
    fragment = json.loads(body[1].json)["note"] if body[1] is not None else None
    out[mode] = [line["attributes"]["note"], body[0], fragment]
print(json.dumps(out))
"""


def _run(code: str, *args: str, engine: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SEC_AUDIT_ENGINE": engine, "PYTHONPATH": f"{ROOT / 'python'}:{ROOT}"}
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        env=env,
        cwd=ROOT,
        check=False,
    )


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("n", [30, 5000])
@pytest.mark.parametrize("pattern", CATASTROPHIC)
def test_catastrophic_patterns_are_refused_and_bounded(pattern: str, n: int, engine: str) -> None:
    done = _run(_ENGINE_CASE, pattern, str(n), engine, engine=engine)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    refused = out["refused"]
    assert refused is not None
    assert refused.startswith("SEC_AUDIT['core']['sensitive_value_patterns']")
    assert "atomic group" in refused and "possessive" in refused
    value = "a" * n + "!"
    clear = value if n < 4096 else value[:4096] + "[TRUNCATED]"
    for mode in ("value", "match"):
        note, status, fragment = out[mode]
        # `re` says no match: the clear value, or [REDACTED] where the bound was hit.
        assert note in (clear, "[REDACTED]")
        assert status == "ok"
        assert fragment in (clear, "[REDACTED]")


_DJANGO_CASE = r"""
import io, json, logging, os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.django.settings"
import django
from django.conf import settings
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment, override_settings
from sec_audit.django.logging.formatters import audit_jsonl_formatter

setup_test_environment()
stream, internal = io.StringIO(), io.StringIO()
handler = logging.StreamHandler(stream)
handler.setFormatter(audit_jsonl_formatter())
logging.getLogger("sec_audit.audit").addHandler(handler)
logging.getLogger("sec_audit.internal").addHandler(logging.StreamHandler(internal))
config = {
    "core": {
        "log_request_bodies": True,
        "log_ok_responses": True,
        "max_body_bytes": 65536,
        "sensitive_value_patterns": [sys.argv[1]],
        "value_scrub_mode": sys.argv[2],
    }
}
body = json.dumps({"note": "a" * 5000 + "!", "other": "a" * 5000 + "!", "amount": 3})
from django.db import connection
connection.creation.create_test_db(verbosity=0)
with override_settings(SEC_AUDIT=config):
    statuses = [Client().post("/echo-json/", body, content_type="application/json").status_code
                for _ in range(2)]
lines = [json.loads(line) for line in stream.getvalue().splitlines()]
print(json.dumps({"statuses": statuses, "bodies": [l["attributes"].get("request.body") for l in lines],
                  "internal": internal.getvalue().splitlines()}))
"""


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("mode", ["value", "match"])
def test_a_pattern_past_the_start_up_check_fails_closed_through_django(
    engine: str, mode: str
) -> None:
    done = _run(_DJANGO_CASE, r"(a|.)*(?<=c)", mode, engine=engine)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["statuses"] == [201, 201]
    expected = {"note": "[REDACTED]", "other": "[REDACTED]", "amount": 3}
    assert out["bodies"] == [expected, expected]
    # Four hits, one line: rate-limited per reason.
    limit_lines = [line for line in out["internal"] if line.startswith("audit.pattern_limit")]
    assert limit_lines == [
        "audit.pattern_limit: value pattern 0 '(a|.)*(?<=c)' of "
        "SEC_AUDIT['core']['sensitive_value_patterns'] hit its backtracking bound; "
        "the value was written as [REDACTED]. Make the pattern possessive or atomic."
    ]


_NO_REGEX_CASE = r"""
import json, re, sys
sys.modules["regex"] = None  # as if the regex module were not installed
from sec_audit.core.engine import EngineConfig, build_engine

engine = build_engine(EngineConfig(value_patterns=(re.compile(sys.argv[1]),)), "native")
print(json.dumps([engine.pattern_report()[0]["path"], engine.project(sys.argv[2])]))
"""


@pytest.mark.skipif(not native_available(), reason="the native engine is not built")
def test_native_bounds_non_ascii_windows_without_the_regex_module() -> None:
    # Without `regex`, only windows with lone surrogates would reach Python's `re`:
    # a non-ASCII window of a `fancy` pattern still runs in Rust, bounded.
    value = "\u00e9" + "a" * 5000 + "!"
    done = _run(_NO_REGEX_CASE, r"(a|.)*(?<=c)", value, engine="native")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == ["bounded backtracking", json.dumps("[REDACTED]")]
