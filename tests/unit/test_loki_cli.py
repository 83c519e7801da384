"""sec-audit-loki-init: every file rendered, escaped per file type, honest about passwords."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

import sec_audit
from sec_audit.logging.loki import cli
from sec_audit.logging.loki.escape import markdown_inline
from sec_audit.logging.loki.setup import (
    copy_monitoring_assets,
    init_monitoring,
    read_compose_credentials,
)
from sec_audit.logging.loki.templating import PLACEHOLDER, iter_templates

FILES = [
    "README.md",
    "alloy/config.alloy",
    "alloy/config.stdout.alloy",
    "django_logging.py",
    "docker-compose.yml",
    "grafana/dashboards/sec-audit-overview.json",
    "grafana/provisioning/dashboards/dashboards.yml",
    "grafana/provisioning/datasources/loki.yml",
    "loki/local-config.yml",
    "loki/queries.md",
]
HOSTILE = "q\"uo'te $HOME {{ APP_LABEL }} \\ back\nline\ttab \u00fc #x: y"
# Labels and attributes our lines really carry (original-behaviour 2.2, formatter).
STREAM_LABELS = {"service_name", "event_type", "severity", "environment"}
ATTRIBUTES = {
    "event_type",
    "request_id",
    "session.id",
    "source.address",
    "http.request.method",
    "http.response.status_code",
    "url.full",
    "url.path",
    "http.route",
    "http.route_name",
    "user.id",
    "user.name",
    "action.name",
    "outcome",
    "duration_ns",
}
EVENT_TYPES = {
    "http.response.success",
    "http.response.redirect",
    "http.response.client_error",
    "http.response.server_error",
    "auth.login.success",
    "auth.login.failed",
    "auth.logout.success",
    "auth.logout.unknown",
    "model.create",
    "model.update",
    "model.delete",
    "model.access",
    "model.unknown",
}


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    parser = cli.argparse.ArgumentParser(prog="sec-audit-loki-init")
    cli.add_arguments(parser)
    code = cli.run(parser.parse_args(list(argv)), out, err)
    return code, out.getvalue(), err.getvalue()


def rendered(tmp_path: Path, **options: Any) -> dict[str, str]:
    init_monitoring(tmp_path, **options)
    return {rel: (tmp_path / rel).read_text(encoding="utf-8") for rel in FILES}


# -- structure ---------------------------------------------------------------------------

YAML_LINE = re.compile(r"^( *)(- )?(?:([A-Za-z0-9_.-]+):(?: (.*))?|(.+))$")


def check_yaml(text: str) -> None:
    """A small structural YAML check (no PyYAML here): block mappings/sequences only."""
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        assert "\t" not in line, f"tab on line {number}"
        match = YAML_LINE.match(line)
        assert match, f"line {number}: {line!r}"
        assert len(match.group(1)) % 2 == 0, f"odd indentation on line {number}"
        scalar = match.group(4) if match.group(3) else match.group(5)
        if scalar is None:
            continue
        if scalar.startswith('"'):
            json.loads(scalar)  # a complete double-quoted scalar, nothing after it
        elif scalar.startswith("["):
            json.loads(scalar)
        else:
            assert '"' not in scalar and " #" not in scalar and ": " not in scalar, line


def quoted_after(text: str, prefix: str) -> list[str]:
    """Decoded double-quoted strings that follow `prefix` in `text`."""
    return [json.loads(m) for m in re.findall(re.escape(prefix) + r'("(?:[^"\\]|\\.)*")', text)]


def test_every_file_is_rendered(tmp_path: Path) -> None:
    written = copy_monitoring_assets(tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == FILES
    for rel in FILES:
        text = (tmp_path / rel).read_text(encoding="utf-8")
        assert not PLACEHOLDER.search(text), rel
        if rel.endswith(".yml"):
            check_yaml(text)
    json.loads(
        (tmp_path / "grafana/dashboards/sec-audit-overview.json").read_text(encoding="utf-8")
    )


def test_every_placeholder_ends_with_an_escaper_for_its_file_type() -> None:
    names = []
    for rel, text in iter_templates():
        names.append(rel)
        for match in PLACEHOLDER.finditer(text):
            if not rel.endswith(".json"):
                assert match.group(2), f"{rel}: {match.group(0)} has no escaper"
    assert sorted(names) == FILES


def test_compose_is_private_and_local_only(tmp_path: Path) -> None:
    files = rendered(tmp_path)
    assert (tmp_path / "docker-compose.yml").stat().st_mode & 0o077 == 0
    ports = re.findall(r'- "([0-9.]+):\d+:\d+"', files["docker-compose.yml"])
    assert ports == ["127.0.0.1"] * 3
    assert 'GF_AUTH_ANONYMOUS_ENABLED: "false"' in files["docker-compose.yml"]


# -- hostile values (B8) -----------------------------------------------------------------------


@pytest.fixture
def hostile(tmp_path: Path) -> dict[str, str]:
    return rendered(
        tmp_path,
        app_label=HOSTILE,
        environment=HOSTILE,
        audit_log_path='../lo$gs {{ X }}/audit "q" $x.jsonl',
        grafana_admin_user=HOSTILE,
        grafana_admin_password=HOSTILE,
        dashboard_title=HOSTILE,
    )


def test_hostile_values_round_trip_in_yaml(hostile: dict[str, str], tmp_path: Path) -> None:
    compose = hostile["docker-compose.yml"]
    check_yaml(compose)
    creds = read_compose_credentials(tmp_path / "docker-compose.yml")
    assert creds == {"GF_SECURITY_ADMIN_USER": HOSTILE, "GF_SECURITY_ADMIN_PASSWORD": HOSTILE}
    (source,) = [s for s in quoted_after(compose, "source: ") if s.startswith("../")]
    assert source == "../lo$$gs {{ X }}"  # compose's own `$$` escape for a literal dollar


def test_hostile_values_round_trip_in_alloy(hostile: dict[str, str]) -> None:
    for name in ("alloy/config.alloy", "alloy/config.stdout.alloy"):
        assert quoted_after(hostile[name], "environment = ") == [HOSTILE]
    (pattern,) = quoted_after(hostile["alloy/config.stdout.alloy"], "regex         = ")
    python_pattern = re.sub(r"\\x\{([0-9a-f]{2})\}", r"\\x\1", pattern)
    assert re.fullmatch(python_pattern, "/" + HOSTILE + "-web-1")
    assert not re.fullmatch(python_pattern, "/other")
    (path,) = quoted_after(hostile["alloy/config.alloy"], '"__path__" = ')
    assert path == '/var/log/sec-audit/audit "q" $x.jsonl'


def test_hostile_values_round_trip_in_json(hostile: dict[str, str]) -> None:
    dashboard = json.loads(hostile["grafana/dashboards/sec-audit-overview.json"])
    assert dashboard["title"] == HOSTILE
    assert HOSTILE in dashboard["description"]
    for expr in expressions(dashboard):
        (label,) = quoted_after(expr, "service_name=")
        assert label == HOSTILE


def test_hostile_values_round_trip_in_python(hostile: dict[str, str], tmp_path: Path) -> None:
    namespace: dict[str, Any] = {}
    exec(compile(hostile["django_logging.py"], "django_logging.py", "exec"), namespace)
    assert namespace["SERVICE_NAME"] == HOSTILE
    expected = os.path.normpath(tmp_path / '../lo$gs {{ X }}/audit "q" $x.jsonl')
    assert namespace["AUDIT_LOG_PATH"] == expected
    assert namespace["LOGGING"]["handlers"]["audit_file"]["filename"] == expected


def test_hostile_values_in_markdown(hostile: dict[str, str]) -> None:
    queries = hostile["loki/queries.md"]
    labels = quoted_after(queries, "service_name=")
    assert labels and all(label == HOSTILE for label in labels)
    readme = hostile["README.md"]
    flat = HOSTILE.replace("\n", " ").replace("\t", " ")
    assert f"**{markdown_inline(HOSTILE)}**" in readme
    unescaped = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown_inline(HOSTILE))
    assert unescaped == flat
    # No value opened a heading, a code fence or a new table row.
    assert [line for line in readme.splitlines() if line.startswith("#")] == [
        f"# Audit log monitoring for {markdown_inline(HOSTILE)}",
        "## Point Django at it",
        "## Run",
        "# from this directory; the audit log's directory must exist before the stack starts",
        "## What is collected",
        "## Production: collect stdout instead",
        "## Before any non-local use",
    ]


def test_placeholders_inside_values_are_not_expanded(hostile: dict[str, str]) -> None:
    dashboard = json.loads(hostile["grafana/dashboards/sec-audit-overview.json"])
    assert "{{ APP_LABEL }}" in dashboard["title"]


# -- the dashboard (B9, B10) ---------------------------------------------------------------------


def expressions(dashboard: dict[str, Any]) -> list[str]:
    return [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]


def test_no_two_panels_overlap_and_all_fit(tmp_path: Path) -> None:
    dashboard = json.loads(rendered(tmp_path)["grafana/dashboards/sec-audit-overview.json"])
    boxes = [(p["title"], p["gridPos"]) for p in dashboard["panels"]]
    for _, g in boxes:
        assert g["x"] >= 0 and g["x"] + g["w"] <= 24 and g["w"] > 0 and g["h"] > 0
    for i, (a_title, a) in enumerate(boxes):
        for b_title, b in boxes[i + 1 :]:
            apart = (
                a["x"] + a["w"] <= b["x"]
                or b["x"] + b["w"] <= a["x"]
                or a["y"] + a["h"] <= b["y"]
                or b["y"] + b["h"] <= a["y"]
            )
            assert apart, f"{a_title!r} overlaps {b_title!r}"
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])


def test_queries_use_only_labels_and_fields_our_lines_carry(tmp_path: Path) -> None:
    dashboard = json.loads(
        rendered(tmp_path, app_label="myapp")["grafana/dashboards/sec-audit-overview.json"]
    )
    exprs = expressions(dashboard)
    assert exprs
    for expr in exprs:
        assert '{service_name="myapp"' in expr
        for selector in re.findall(r"\{([^{}]*)\}", expr.replace("{{", "")):
            for label, _, value in re.findall(r'(\w+)\s*(=~|!=|!~|=)\s*"([^"]*)"', selector):
                assert label in STREAM_LABELS, expr
                if label == "event_type":
                    for alternative in value.split("|"):
                        pattern = alternative.replace(".", r"\.").replace(r"\.+", ".+")
                        assert any(re.fullmatch(pattern, t) for t in EVENT_TYPES), alternative
        for field in re.findall(r'attributes\["([^"]+)"\]', expr):
            assert field in ATTRIBUTES, field
        assert "enforcement" not in expr and "auth.logout.failed" not in expr
    joined = "\n".join(exprs)
    assert 'attributes["http.response.status_code"]' in joined
    assert 'attributes["source.address"]' in joined
    assert "sum by (event_type)" in joined
    assert {p["datasource"]["uid"] for p in dashboard["panels"]} == {"loki"}


def test_alloy_labels_match_the_line_shape(tmp_path: Path) -> None:
    files = rendered(tmp_path)
    for name in ("alloy/config.alloy", "alloy/config.stdout.alloy"):
        text = files[name]
        assert 'event_type   = "attributes.event_type"' in text
        assert 'severity     = "severity_text"' in text
        assert 'service_name = "resource.\\"service.name\\""' in text
        assert "http://loki:3100/loki/api/v1/push" in text


def test_datasource_uid_and_provisioning_paths(tmp_path: Path) -> None:
    files = rendered(tmp_path)
    assert "uid: loki" in files["grafana/provisioning/datasources/loki.yml"]
    assert (
        "path: /var/lib/grafana/dashboards"
        in files["grafana/provisioning/dashboards/dashboards.yml"]
    )
    assert "schema: v13" in files["loki/local-config.yml"]


# -- the CLI --------------------------------------------------------------------------------


def test_cli_prints_files_credentials_and_warning(tmp_path: Path) -> None:
    code, out, err = run_cli(str(tmp_path / "mon"), "--grafana-admin-password", "s3cret!")
    assert code == 0 and err == ""
    assert f"Wrote {len(FILES)} file(s) under {(tmp_path / 'mon').resolve()}" in out
    for rel in FILES:
        assert f"  {rel}\n" in out
    assert "  password: s3cret!\n" in out
    assert "local use only" in out


def test_rerun_without_overwrite_keeps_files_and_shows_the_password_on_disk(
    tmp_path: Path,
) -> None:
    target = tmp_path / "mon"
    code, out, _ = run_cli(str(target))
    assert code == 0
    (password,) = re.findall(r"password: (\S+) \(generated\)", out)
    before = {rel: (target / rel).read_bytes() for rel in FILES}

    code, out, _ = run_cli(str(target), "--app-label", "changed")
    assert code == 0
    assert f"Kept {len(FILES)} existing file(s)" in out and "Wrote" not in out
    assert f"password: {password} (from the existing docker-compose.yml)" in out
    assert re.findall(r"password: (\S+)", out) == [password]
    assert {rel: (target / rel).read_bytes() for rel in FILES} == before

    code, out, _ = run_cli(str(target), "--grafana-admin-password", "other")
    assert "password: other" not in out
    assert "was NOT applied" in out

    code, out, _ = run_cli(str(target), "--overwrite", "--grafana-admin-password", "other")
    assert code == 0 and f"Wrote {len(FILES)} file(s)" in out and "password: other\n" in out
    assert (
        read_compose_credentials(target / "docker-compose.yml")["GF_SECURITY_ADMIN_PASSWORD"]
        == "other"
    )


def test_unreadable_kept_compose_does_not_invent_a_password(tmp_path: Path) -> None:
    target = tmp_path / "mon"
    target.mkdir()
    (target / "docker-compose.yml").write_text("services: {}\n", encoding="utf-8")
    code, out, _ = run_cli(str(target))
    assert code == 0
    assert "password: unchanged (kept in the existing docker-compose.yml)" in out
    assert f"Wrote {len(FILES) - 1} file(s)" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["--app-label", ""],
        ["--environment", "   "],
        ["--dashboard-title", "nul\x00byte"],
        ["--audit-log-path", "../logs/"],
        ["--app-label", "x" * 257],
        ["--grafana-admin-password", "bad\udcffsurrogate"],
    ],
)
def test_invalid_values_exit_2_and_write_nothing(tmp_path: Path, argv: list[str]) -> None:
    code, out, err = run_cli(str(tmp_path / "mon"), *argv)
    assert code == 2 and out == ""
    assert err.startswith("sec-audit-loki-init: error: --")
    assert not (tmp_path / "mon").exists()


def test_target_that_is_a_file_or_unwritable_exits_1(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    code, _, err = run_cli(str(blocker))
    assert code == 1 and "not a directory" in err
    code, _, err = run_cli(str(blocker / "below"))
    assert code == 1 and "cannot write" in err
    if os.geteuid() != 0:  # root ignores permissions
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        code, _, _ = run_cli(str(locked / "mon"))
        assert code == 1


def test_main_entry_point_exits_nonzero_on_usage_error() -> None:
    with pytest.raises(SystemExit) as info:
        cli.main([])
    assert info.value.code == 2


def test_works_from_a_zipped_package(tmp_path: Path) -> None:
    # A wheel is a zip: the templates must be read through importlib.resources only.
    package = Path(sec_audit.__file__).parent
    archive = tmp_path / "pkg.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in package.rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".so":
                zf.write(path, path.relative_to(package.parent).as_posix())
    script = (
        "import sys, sec_audit.logging.loki.setup as s;"
        "assert '.zip' in s.__file__, s.__file__;"
        "r = s.init_monitoring(sys.argv[1]); print(len(r.written))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "mon")],
        env={**os.environ, "PYTHONPATH": str(archive)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(len(FILES))
    assert (
        sorted(
            p.relative_to(tmp_path / "mon").as_posix()
            for p in (tmp_path / "mon").rglob("*")
            if p.is_file()
        )
        == FILES
    )
