"""The main job: run the demo shop under gunicorn, send it real traffic, print its audit lines.

    python demo/run.py            # full run: traffic, then every audit line on stdout
    python demo/run.py --short    # the same traffic, summary only (used by the test command)
    python demo/run.py --serve    # just serve on 127.0.0.1:8000 and stream audit lines

The service writes its audit lines to stdout (the supported delivery path); this script
reads them from the server's stdout, checks each is one valid JSON object with no secret
from the traffic in it, and prints them. It exits non-zero if any check fails.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from http.cookiejar import CookieJar
from pathlib import Path

DEMO_DIR = Path(__file__).resolve().parent
# Values that must never appear in an audit line.
SECRETS = ("hunter2-Correct-Horse", "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "wrong-pass-9f2")
USER, PASSWORD = "alice", SECRETS[0]
# Planted in bodies under keys that are NOT sensitive, so only the detectors and the
# value pattern stand between them and the log.
PLANTED = {
    "aws": "AKIAIOSFODNN7EXAMPLE",
    "github": "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXZhbHVlLWhlcmU",
    "card": "4111 1111 1111 1111",
    # No detector knows this one: the demo's own value pattern (40+ token characters).
    "opaque": "ref_Q7vL2mX9pR4sK8wN3tB6yH1cF5gJ0dA2eUz8Wk",
}
SPRAY_SOURCE = "198.51.100.23"  # X-Forwarded-For from the trusted loopback proxy
SPRAY_USERS = ("admin", "root", "alice", "bob", "carol", "dave", "erin", "frank")
SPRAY_PASSWORD = "Spring2026!spray"
ALL_SECRETS = (*SECRETS, *PLANTED.values(), SPRAY_PASSWORD)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(db: str) -> dict[str, str]:
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "demo_project.settings"
    env["DEMO_DB"] = db
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(DEMO_DIR), env.get("PYTHONPATH", "")]))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _prepare_db(env: dict[str, str]) -> None:
    manage = [sys.executable, str(DEMO_DIR / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, check=True, cwd=DEMO_DIR)
    create_user = (
        "from django.contrib.auth.models import User;"
        f"User.objects.create_user({USER!r}, password={PASSWORD!r})"
    )
    subprocess.run([*manage, "shell", "-c", create_user], env=env, check=True, cwd=DEMO_DIR)


def _start_server(env: dict[str, str], port: int) -> subprocess.Popen[str]:
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "demo_project.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, env=env, cwd=DEMO_DIR, stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            if proc.poll() is not None:
                raise SystemExit("gunicorn exited before it was ready") from None
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("gunicorn did not start within 30 s")


class Traffic:
    """Real HTTP requests against the running service (loopback only)."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.progress = sys.stderr.isatty()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        self.bodies: list[object] = []

    def send(
        self, method: str, path: str, body: object = None, headers: dict[str, str] | None = None
    ) -> int:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with self.opener.open(req, timeout=10) as resp:
                resp.read()
                return int(resp.status)
        except urllib.error.HTTPError as err:
            err.read()
            return int(err.code)

    def run(self) -> list[tuple[str, int]]:
        basic = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        api = {"Authorization": basic}
        steps = [
            ("GET /health/ (ignored path)", "GET", "/health/", None, None),
            ("GET an item", "GET", "/items/7/", None, None),
            ("GET a missing item", "GET", "/items/700/", None, None),
            ("GET an unknown URL", "GET", "/wp-admin/setup.php", None, None),
            (
                "failed login",
                "POST",
                "/auth/login/",
                {"username": USER, "password": SECRETS[2]},
                None,
            ),
            ("login", "POST", "/auth/login/", {"username": USER, "password": PASSWORD}, None),
            (
                "create an account (DRF)",
                "POST",
                "/api/accounts/",
                {
                    "name": "acme",
                    "email": "ops@acme.test",
                    "api_key": SECRETS[1],
                    "password": PASSWORD,
                },
                api,
            ),
            ("update it", "PATCH", "/api/accounts/1/", {"email": "sec@acme.test"}, api),
            ("unauthenticated API call", "GET", "/api/accounts/", None, None),
            (
                "spoofed X-Forwarded-For",
                "GET",
                "/items/8/",
                None,
                {"X-Forwarded-For": "6.6.6.6, 203.0.113.9"},
            ),
            ("a view that raises", "GET", "/boom/", None, None),
            ("host-header attack", "GET", "/items/9/", None, {"Host": "evil.example"}),
            ("delete the account", "DELETE", "/api/accounts/1/", None, api),
            ("logout", "POST", "/auth/logout/", None, None),
        ]
        # Password spraying: one address, many user names, one password.
        spray = {"X-Forwarded-For": SPRAY_SOURCE}
        for user in SPRAY_USERS:
            steps.append(
                (
                    f"spray {user}",
                    "POST",
                    "/auth/login/",
                    {"username": user, "password": SPRAY_PASSWORD},
                    spray,
                )
            )
        # Secret-laden bodies: nested JSON, a list inside, free text.
        steps += [
            (
                "secrets in a nested JSON body",
                "POST",
                "/api/accounts/",
                {
                    "name": "beta",
                    "email": "dev@beta.test",
                    "notes": f"rotate {PLANTED['aws']} soon",
                    "integration": {
                        "repo_access": PLANTED["github"],
                        "session": PLANTED["jwt"],
                        "build_ref": PLANTED["opaque"],
                    },
                },
                api,
            ),
            (
                "secrets in a list and free text",
                "POST",
                "/api/accounts/",
                {
                    "name": "gamma",
                    "email": "x@gamma.test",
                    "history": [{"paid_with": PLANTED["card"]}, "ok"],
                },
                None,
            ),
            ("disallowed Host", "GET", "/items/1/", None, {"Host": "attacker.invalid"}),
        ]
        self.bodies = [body for _, _, _, body, _ in steps if body is not None]
        results = []
        total = len(steps)
        for n, (label, method, path, body, headers) in enumerate(steps, 1):
            results.append((label, self.send(method, path, body, headers)))
            if self.progress:
                print(f"\r  traffic {n}/{total}", end="", file=sys.stderr, flush=True)
        if self.progress:
            print(file=sys.stderr)
        return results


def _check(lines: list[str]) -> list[str]:
    problems = []
    for n, line in enumerate(lines, 1):
        try:
            obj = json.loads(line)
        except ValueError:
            problems.append(f"line {n} is not JSON: {line[:80]!r}")
            continue
        if not isinstance(obj, dict) or "attributes" not in obj:
            problems.append(f"line {n} is not an audit record")
        for secret in ALL_SECRETS:
            if secret in line:
                problems.append(f"line {n} leaks a secret: {secret[:4]}...")
    return problems


def _engine_name() -> str:
    try:
        from sec_audit.core.engine import active_engine_name

        return str(active_engine_name())
    except Exception as exc:  # the demo reports, it does not fail on this
        return f"unknown ({type(exc).__name__})"


def _sent_strings(bodies: list[object]) -> dict[str, list[str]]:
    """Every string value the traffic sent in a JSON body, by the key it was sent under."""
    sent: dict[str, list[str]] = {}

    def walk(value: object, key: str) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, str(k))
        elif isinstance(value, list):
            for item in value:
                walk(item, key)
        elif isinstance(value, str):
            sent.setdefault(key, []).append(value)

    for body in bodies:
        walk(body, "")
    return sent


def _redacted_keys(value: object) -> list[str]:
    """The key of every value written as exactly `[REDACTED]`, in the parsed lines."""
    found: list[str] = []
    stack: list[tuple[str, object]] = [("", value)]
    while stack:
        key, item = stack.pop()
        if isinstance(item, dict):
            stack.extend((str(k), v) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((key, v) for v in item)
        elif item == "[REDACTED]":
            found.append(key)
    return found


RULE_GROUPS = ("key", "detector", "pattern", "other")


class RedactionRules:
    """Says which rule wrote each `[REDACTED]`, by asking the engine with the demo's settings.

    A key the engine redacts whatever its value is the key rule; otherwise the value the
    traffic sent under that key is projected again with only one detector, or with only
    the value patterns. Detectors are asked first (they name the secret's kind); a value
    the demo did not send (none today) counts as "other".
    """

    def __init__(self, sent: dict[str, list[str]]) -> None:
        from dataclasses import replace

        from sec_audit.core.config import SecAuditSettings
        from sec_audit.core.engine import build_engine
        from sec_audit.core.engine.config import EngineConfig

        sys.path.insert(0, str(DEMO_DIR))
        from demo_project import settings as demo_settings

        parsed = SecAuditSettings.from_value(demo_settings.SEC_AUDIT)
        cfg = EngineConfig.from_settings(parsed.core, parsed.logging.projection_limits)
        self._full = build_engine(cfg)
        self._patterns_only = build_engine(replace(cfg, secret_detectors=()))
        self._detectors = {
            name: build_engine(replace(cfg, value_patterns=(), secret_detectors=(name,)))
            for name in cfg.secret_detectors
        }
        self._sent = sent

    @staticmethod
    def _redacts(engine: object, key: str, value: str) -> bool:
        return '"[REDACTED]"' in engine.project({key: value})  # type: ignore[attr-defined]

    def rule(self, key: str) -> str:
        if self._redacts(self._full, key, "plain"):
            return "key"
        for value in self._sent.get(key, ()):
            if not self._redacts(self._full, "v", value):
                continue
            for name, engine in self._detectors.items():
                if self._redacts(engine, "v", value):
                    return f"detector {name}"
            if self._redacts(self._patterns_only, "v", value):
                return "pattern"
        return "other"


def redactions_by_rule(records: list[dict], sent: dict[str, list[str]]) -> Counter[str]:
    rules = RedactionRules(sent)
    return Counter(rules.rule(key) for record in records for key in _redacted_keys(record))


def _redaction_rows(by_rule: Counter[str]) -> list[tuple[str, str]]:
    rows = [("values written as [REDACTED]", str(sum(by_rule.values())))]
    for group in RULE_GROUPS:
        chosen = {rule: n for rule, n in by_rule.items() if rule.split(" ", 1)[0] == group}
        detail = ", ".join(
            f"{rule.split(' ', 1)[1]} {n}" for rule, n in sorted(chosen.items()) if " " in rule
        )
        rows.append(
            (f"  by {group}", str(sum(chosen.values())) + (f" ({detail})" if detail else ""))
        )
    return rows


def _summary_table(
    kinds: Counter[str],
    records: list[dict],
    sprayed: list[dict],
    problems: list[str],
    by_rule: Counter[str],
) -> None:
    text = "\n".join(json.dumps(r) for r in records)
    leaked = [name for name, value in PLANTED.items() if value in text]
    leaked += [s[:4] + "..." for s in (*SECRETS, SPRAY_PASSWORD) if s in text]
    rows = [
        ("engine", _engine_name()),
        ("lines checked", str(len(records))),
        ("event types", str(len(kinds))),
        *((f"  {kind}", str(n)) for kind, n in sorted(kinds.items())),
        *_redaction_rows(by_rule),
        (
            f"failed logins from {SPRAY_SOURCE}",
            f"{len(sprayed)} ({len({a.get('user.name') for a in sprayed})} user names)",
        ),
        ("planted secrets", str(len(ALL_SECRETS))),
        ("planted secret in the output", "YES: " + ", ".join(leaked) if leaked else "no"),
        ("problems", str(len(problems))),
    ]
    width = max(len(k) for k, _ in rows)
    print("\nsummary:", file=sys.stderr)
    for key, value in rows:
        print(f"  {key.ljust(width)}  {value}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--short", action="store_true", help="print a summary instead of every line"
    )
    parser.add_argument(
        "--serve", action="store_true", help="serve on 127.0.0.1:8000 until interrupted"
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="sec-audit-demo-") as tmp:
        env = _env(str(Path(tmp) / "demo.sqlite3"))
        _prepare_db(env)
        port = 8000 if args.serve else _free_port()
        server = _start_server(env, port)
        if args.serve:
            print(
                f"serving on http://127.0.0.1:{port}/ (user {USER!r}); Ctrl-C to stop",
                file=sys.stderr,
            )
            try:
                assert server.stdout is not None
                for line in server.stdout:
                    print(line, end="", flush=True)
            except KeyboardInterrupt:
                pass
            finally:
                server.terminate()
            return 0
        traffic = Traffic(port)
        try:
            results = traffic.run()
        finally:
            server.terminate()
            out, _ = server.communicate(timeout=30)
    lines = [ln for ln in out.splitlines() if ln.strip()]
    if not args.short:
        for line in lines:
            print(line)
    print("\ntraffic:", file=sys.stderr)
    for label, status in results:
        print(f"  {status}  {label}", file=sys.stderr)
    kinds = Counter(json.loads(ln).get("event_name", "?") for ln in lines if ln.startswith("{"))
    problems = _check(lines)
    records = [json.loads(ln) for ln in lines if ln.startswith("{")]
    sprayed = [
        r["attributes"]
        for r in records
        if r.get("event_name") == "auth.login.failed"
        and r.get("attributes", {}).get("source.address") == SPRAY_SOURCE
    ]
    if len(sprayed) != len(SPRAY_USERS):
        problems.append(
            f"expected {len(SPRAY_USERS)} auth.login.failed lines from {SPRAY_SOURCE}, "
            f"got {len(sprayed)}"
        )
    by_rule = redactions_by_rule(records, _sent_strings(traffic.bodies))
    groups = Counter(rule.split(" ", 1)[0] for rule in by_rule.elements())
    # The traffic plants a value for each rule: each must have fired, and every
    # [REDACTED] must be explained by one.
    for group in RULE_GROUPS[:-1]:
        if not groups[group]:
            problems.append(f"no value was redacted by a {group} rule")
    if groups["other"]:
        problems.append(f"{groups['other']} [REDACTED] value(s) not explained by any rule")
    _summary_table(kinds, records, sprayed, problems, by_rule)
    expected = {
        "http.response.success",
        "http.response.client_error",
        "http.response.server_error",
        "auth.login.success",
        "auth.login.failed",
        "auth.logout.success",
        "model.create",
        "model.update",
        "model.delete",
    }
    missing = expected - set(kinds)
    if missing:
        problems.append(f"expected event types missing: {sorted(missing)}")
    # The host-header attack is answered 400 by CommonMiddleware, before AuditMiddleware
    # runs; the security hook must still audit it (B4), with the raw host.
    host_attack = [
        attrs
        for attrs in (json.loads(ln).get("attributes", {}) for ln in lines if ln.startswith("{"))
        if attrs.get("event_type") == "http.response.client_error"
        and attrs.get("http.response.status_code") == 400
        and attrs.get("http.request.header.host") == "evil.example"
    ]
    if len(host_attack) != 1:
        problems.append(
            f"expected one http.response.client_error 400 line for the host-header attack, "
            f"got {len(host_attack)}"
        )
    for problem in problems:
        print("FAIL:", problem, file=sys.stderr)
    if problems:
        return 1
    print("all lines valid JSON, no secret leaked", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
