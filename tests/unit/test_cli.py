"""The `sec-audit` command: info, scrub (same engine and settings), loki-init."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from sec_audit import __version__
from sec_audit.cli import main
from sec_audit.core.engine import active_engine_name


def run(*argv: str, stdin: bytes = b"") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdin=io.BytesIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(autouse=True)
def no_django_settings_module(monkeypatch: pytest.MonkeyPatch) -> None:
    # pytest-django sets it for the whole run; `info` would read the test project.
    monkeypatch.delenv("DJANGO_SETTINGS_MODULE", raising=False)


def _settings_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, source: str
) -> str:
    """A settings module `name` with `source`, importable for the test."""
    (tmp_path / f"{name}.py").write_text(source, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


@pytest.fixture
def settings_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    return _settings_module(
        tmp_path,
        monkeypatch,
        "cli_settings_mod",
        "SEC_AUDIT = {\n"
        "    'core': {'source': 'shop', 'sensitive_value_patterns': [r'hunter\\d']},\n"
        "    'logging': {'projection_limits': {'max_string_length': 24}},\n"
        "}\n"
        "OTHER = {'core': {'source': 'other'}}\n"
        "BROKEN = {'core': {'nope': 1}}\n",
    )


# -- info ------------------------------------------------------------------------------------


def test_info_defaults() -> None:
    code, out, err = run("info")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == f"sec-audit {__version__}"
    assert lines[1].startswith(f"engine: {active_engine_name()} (SEC_AUDIT_ENGINE=")
    assert "source: sec-audit" in lines
    assert "value_scrub_mode: value" in lines


def test_info_json_with_settings_module(settings_module: str) -> None:
    code, out, _ = run("info", "--settings", settings_module, "--json")
    assert code == 0
    info = json.loads(out)
    assert info["version"] == __version__
    assert info["engine"] == active_engine_name()
    assert info["source"] == "shop"
    assert info["projection_limits"]["max_string_length"] == 24
    assert [p["pattern"] for p in info["sensitive_value_patterns"]] == ["hunter\\d"]
    code, out, _ = run("info", "--settings", f"{settings_module}:OTHER", "--json")
    assert json.loads(out)["source"] == "other"


@pytest.fixture
def pattern_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    return _settings_module(
        tmp_path,
        monkeypatch,
        "cli_pattern_settings",
        "SEC_AUDIT = {'core': {\n"
        "    'sensitive_value_patterns': [r'\\d{4}', r'(?<=x)y'],\n"
        "    'secret_detectors': ['us_ssn', 'jwt'],\n"
        "    'sensitive_key_sets': ['recommended'],\n"
        "}}\n",
    )


def test_info_lists_detectors_key_sets_and_each_pattern_path(pattern_settings: str) -> None:
    code, out, _ = run("info", "--settings", pattern_settings)
    assert code == 0
    lines = out.splitlines()
    assert "secret_detectors: jwt, us_ssn" in lines  # catalogue order
    assert "sensitive_key_sets: recommended" in lines
    at = lines.index("sensitive_value_patterns: 2")
    if active_engine_name() == "native":
        assert lines[at + 1].startswith(
            "  '\\\\d{4}': linear, other windows: regex-with-timeout; bounded ("
        )
        assert lines[at + 2].startswith(
            "  '(?<=x)y': bounded backtracking, other windows: regex-with-timeout; bounded ("
        )
    else:
        assert lines[at + 1] == (
            "  '\\\\d{4}': regex-with-timeout; bounded (exact translation, 0.1 s timeout per call)"
        )
        assert lines[at + 2].startswith("  '(?<=x)y': regex-with-timeout; bounded (")


def test_info_says_unbounded_without_the_regex_module(
    pattern_settings: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sec_audit.core.engine.python import patterns

    monkeypatch.setattr(patterns, "regex_module", lambda: None)
    code, out, _ = run("info", "--settings", pattern_settings, "--json")
    assert code == 0
    report = json.loads(out)["sensitive_value_patterns"]
    assert [entry["bounded"] for entry in report] == [False, False]
    assert {entry.get("other_windows") or entry["path"] for entry in report} == {"python re"}
    assert all("regex module is not installed" in entry["reason"] for entry in report)


def test_info_bad_settings_exit_2(settings_module: str) -> None:
    code, _, err = run("info", "--settings", "no_such_module_xyz")
    assert code == 2 and "cannot import settings module" in err
    code, _, err = run("info", "--settings", f"{settings_module}:BROKEN")
    assert code == 2 and "SEC_AUDIT['core']" in err and "nope" in err
    code, _, err = run("info", "--settings", f"{settings_module}:MISSING")
    assert code == 2 and "no attribute 'MISSING'" in err


def test_info_reads_the_django_project_when_django_settings_module_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Issue 11.4: not "settings: defaults" with a project's settings module set.
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "tests.django.settings")
    code, out, err = run("info")
    assert code == 0, err
    lines = out.splitlines()
    assert "settings: django (DJANGO_SETTINGS_MODULE=tests.django.settings)" in lines
    assert "source: testapp" in lines
    code, out, _ = run("info", "--json")
    assert json.loads(out)["settings"] == "django (DJANGO_SETTINGS_MODULE=tests.django.settings)"


def test_info_settings_option_wins_over_django_settings_module(
    settings_module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "tests.django.settings")
    code, out, _ = run("info", "--settings", settings_module)
    assert code == 0 and "source: shop" in out.splitlines()


def test_info_summarises_every_section(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLI_INFO_KEY", "a-key-of-at-least-16-bytes")
    (tmp_path / "cli_info_full.py").write_text(
        "SEC_AUDIT = {\n"
        "    'core': {'log_ok_responses': True, 'ignore_paths': [r'^/health/'],\n"
        "             'log_request_bodies': True, 'max_body_bytes': 2048},\n"
        "    'logging': {'integrity': {'key_env': 'CLI_INFO_KEY', 'key_id': 'k7'}},\n"
        "    'django': {'emit_session_id': True, 'include_usernames': True,\n"
        "               'filters': ['tests.django.auditapp.extensions.drop_probe']},\n"
        "}\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    code, out, err = run("info", "--settings", "cli_info_full")
    assert code == 0, err
    lines = out.splitlines()
    for expected in (
        "events:",
        "  log_ok_responses: True",
        "  ignore_paths: ^/health/",
        "body_capture:",
        "  log_request_bodies: True",
        "  max_body_bytes: 2048",
        "integrity:",
        "  enabled: True",
        "  key_id: k7",
        "  key_from: env CLI_INFO_KEY",
        "django:",
        "  emit_session_id: True",
        "  include_usernames: True",
        "  drf_enabled: auto",
        "  filters: tests.django.auditapp.extensions.drop_probe",
    ):
        assert expected in lines
    assert "a-key-of-at-least-16-bytes" not in out


def test_info_imports_filters_and_reports_a_bad_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cli_info_badfilter.py").write_text(
        "SEC_AUDIT = {'django': {'filters': ['no_such_module_xyz.skip']}}\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    code, out, err = run("info", "--settings", "cli_info_badfilter")
    assert code == 2 and out == ""
    assert "no_such_module_xyz.skip" in err


# -- scrub --------------------------------------------------------------------------------------


def line(**attributes: object) -> bytes:
    envelope = {
        "timestamp": 1,
        "observed_timestamp": 2,
        "severity_text": "INFO",
        "severity_number": 9,
        "body": "http.response",
        "resource": {"service.name": "shop"},
        "attributes": {"event_type": "http.response.success", **attributes},
        "event_name": "http.response.success",
    }
    return json.dumps(envelope).encode()


def test_scrub_reprojects_with_the_same_engine_and_settings(settings_module: str) -> None:
    data = line(password="x", note="my hunter2", long="a" * 30, n=1.5) + b"\n"
    code, out, err = run("scrub", "--settings", settings_module, stdin=data)
    assert code == 0 and err == ""
    (result,) = [json.loads(text) for text in out.splitlines()]
    assert list(result) == list(json.loads(data))
    assert result["attributes"] == {
        "event_type": "http.response.success",
        "password": "[REDACTED]",
        "note": "[REDACTED]",
        "long": "a" * 24 + "[TRUNCATED]",
        "n": 1.5,
    }
    assert out.splitlines()[0] == json.dumps(result)


def test_scrub_compact_and_idempotent() -> None:
    code, out, _ = run("scrub", "--compact", stdin=line(token="t", ok="fine"))
    assert code == 0
    first = out.splitlines()[0]
    assert first == json.dumps(json.loads(first), separators=(",", ":"))
    code, again, _ = run("scrub", "--compact", stdin=out.encode())
    assert again == out


def test_scrub_reports_invalid_lines_with_numbers_and_exit_1(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_bytes(
        line(a=1)
        + b"\n\nnot json password=hunter2\n[1, 2]\n"
        + b'{"attributes": [1]}\n'
        + b"\xff\xfe\n"
        + line(b=2)
        + b"\r\n"
    )
    code, out, err = run("scrub", str(path))
    assert code == 1
    assert [
        json.loads(t)["attributes"].get("a", json.loads(t)["attributes"].get("b"))
        for t in out.splitlines()
    ] == [1, 2]
    assert err.splitlines() == [
        f"{path}:3: invalid line: not JSON (Expecting value at column 1)",
        f"{path}:4: invalid line: not a JSON object (list)",
        f"{path}:5: invalid line: no 'attributes' object",
        f"{path}:6: invalid line: not UTF-8 (byte 0)",
    ]
    assert "hunter2" not in err


def test_scrub_several_files_and_missing_file(tmp_path: Path) -> None:
    one, two = tmp_path / "1.jsonl", tmp_path / "2.jsonl"
    one.write_bytes(line(a=1) + b"\n")
    two.write_bytes(line(a=2) + b"\n")
    code, out, err = run("scrub", str(one), str(tmp_path / "missing.jsonl"), str(two))
    assert code == 1
    assert [json.loads(t)["attributes"]["a"] for t in out.splitlines()] == [1, 2]
    assert "cannot read" in err and "missing.jsonl" in err


def test_scrub_applies_the_record_size_bound(settings_module: str, tmp_path: Path) -> None:
    module = tmp_path / "cli_small_limit.py"
    module.write_text(
        "SEC_AUDIT = {'logging': {'projection_limits': {'max_record_bytes': 1024}}}\n",
        encoding="utf-8",
    )
    code, out, _ = run(
        "scrub", "--settings", "cli_small_limit", stdin=line(big="x" * 2000, **{"user.id": "7"})
    )
    assert code == 0
    result = json.loads(out)
    assert len(out.strip()) <= 1024
    assert result["attributes"]["big"] == "[TRUNCATED]"
    assert result["attributes"]["audit.degraded"] == 1
    assert result["attributes"]["user.id"] == "7"


# -- loki-init and usage ---------------------------------------------------------------------------


def test_loki_init_subcommand(tmp_path: Path) -> None:
    code, out, _ = run("loki-init", str(tmp_path / "mon"), "--app-label", "shop")
    assert code == 0 and "Wrote 10 file(s)" in out  # docs/loki-setup.md lists them
    assert '{service_name=\\"shop\\"' in (
        tmp_path / "mon/grafana/dashboards/sec-audit-overview.json"
    ).read_text(encoding="utf-8")
    code, _, err = run("loki-init", str(tmp_path / "mon2"), "--app-label", "")
    assert code == 2 and "--app-label" in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in ([], ["nope"]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2


def test_console_script_module_runs() -> None:
    import subprocess

    proc = subprocess.run(
        [sys.executable, "-m", "sec_audit.cli", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0 and proc.stdout.strip() == f"sec-audit {__version__}"


# -- scrub on sealed lines (issue 11.6) ----------------------------------------------------

SEAL_KEY = b"cli-scrub-test-key-0123456789"


def _sealed_input() -> bytes:
    from sec_audit.logging.integrity import IntegrityChain

    chain = IntegrityChain(SEAL_KEY)
    lines = [line(password="hunter2", n=1), line(note="fine", n=2)]
    return b"".join(chain.seal(raw.decode()).encode() + b"\n" for raw in lines)


def test_scrub_sealed_lines_strips_the_member_and_says_so() -> None:
    from sec_audit.verify import verify_lines

    data = _sealed_input()
    assert verify_lines(data.decode().splitlines(), {"k1": SEAL_KEY}).ok
    code, out, err = run("scrub", stdin=data)
    assert code == 0
    records = [json.loads(text) for text in out.splitlines()]
    assert [r["attributes"]["n"] for r in records] == [1, 2]
    assert all("integrity" not in r for r in records)
    assert records[0]["attributes"]["password"] == "[REDACTED]"
    assert "2 sealed line(s)" in err and "NOT sealed" in err


def test_scrub_unsealed_lines_prints_no_notice() -> None:
    code, _, err = run("scrub", stdin=line(n=1))
    assert code == 0 and err == ""


def test_scrub_reseals_when_the_settings_configure_integrity(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sec_audit.verify import verify_lines

    new_key = b"the-new-sealing-key-for-scrub"
    monkeypatch.setenv("CLI_SCRUB_SEAL_KEY", new_key.decode())
    (tmp_path / "cli_seal_settings.py").write_text(
        "SEC_AUDIT = {'logging': {'integrity': {'key_env': 'CLI_SCRUB_SEAL_KEY', 'key_id': 'k2'}}}\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    code, out, err = run("scrub", "--settings", "cli_seal_settings", stdin=_sealed_input())
    assert code == 0
    assert "re-sealed as a new stream" in err and "k2" in err
    lines = out.splitlines()
    assert len(lines) == 2 and all(
        json.loads(text)["integrity"]["key_id"] == "k2" for text in lines
    )
    assert verify_lines(lines, {"k2": new_key}).ok
    assert not verify_lines(lines, {"k1": SEAL_KEY, "k2": SEAL_KEY}).ok
