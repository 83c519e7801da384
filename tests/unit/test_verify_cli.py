"""`sec_audit.verify.main`: keys from env/files, several files, exit codes, the report."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from sec_audit.logging.integrity import IntegrityChain
from sec_audit.verify import EXIT_BROKEN, EXIT_OK, EXIT_USAGE, main

KEY = b"0123456789abcdef0123456789abcdef"


def write_lines(path: Path, chain: IntegrityChain, start: int, count: int) -> list[str]:
    lines = [chain.seal(json.dumps({"n": n})) for n in range(start, start + count)]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return lines


@pytest.fixture
def rotated(tmp_path: Path) -> tuple[Path, Path, str]:
    """Two rotated files of one stream: audit.jsonl.1 (seq 1-3), audit.jsonl (seq 4-6)."""
    chain = IntegrityChain(KEY)
    write_lines(tmp_path / "audit.jsonl.1", chain, 0, 3)
    write_lines(tmp_path / "audit.jsonl", chain, 3, 3)
    return tmp_path / "audit.jsonl.1", tmp_path / "audit.jsonl", chain.stream


def run(*argv: str | Path) -> tuple[int, str]:
    out = io.StringIO()
    code = main([str(a) for a in argv], stdout=out)
    return code, out.getvalue()


def test_intact_files_oldest_first(
    rotated: tuple[Path, Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new, stream = rotated
    monkeypatch.setenv("AUDIT_KEY", KEY.decode())
    code, out = run("--key-env", "AUDIT_KEY", old, new)
    assert code == EXIT_OK
    assert out == (f"stream {stream}: seq 1-6, 6 lines, key k1\n6 lines in 1 stream: intact\n")


def test_key_file_with_trailing_newline_and_key_id(
    rotated: tuple[Path, Path, str], tmp_path: Path
) -> None:
    key_file = tmp_path / "key"
    key_file.write_bytes(KEY + b"\n")
    old, new, _ = rotated
    assert run("--key-file", key_file, old, new)[0] == EXIT_OK
    assert run("--key-file", f"k1={key_file}", "-q", old, new) == (EXIT_OK, "")
    code, out = run("--key-file", f"k2={key_file}", "-q", old, new)
    assert code == EXIT_BROKEN
    assert out.count("unknown_key: no key given for key_id 'k1'") == 6


def test_broken_chain_names_file_and_line(rotated: tuple[Path, Path, str], tmp_path: Path) -> None:
    old, new, stream = rotated
    kept = new.read_text().splitlines(keepends=True)
    new.write_text(kept[0] + kept[2])  # seq 5 deleted
    key_file = tmp_path / "key"
    key_file.write_bytes(KEY)
    code, out = run("--key-file", key_file, old, new)
    assert code == EXIT_BROKEN
    assert out.splitlines() == [
        f"{new}:2: stream {stream} seq 6: missing: seq 5 missing (1 line deleted) "
        f"after seq 4 ({new}:1)",
        f"stream {stream}: seq 1-6, 5 lines, key k1",
        "5 lines in 1 stream: BROKEN (1 problem)",
    ]


def test_files_in_the_wrong_order_read_as_reordered(
    rotated: tuple[Path, Path, str], tmp_path: Path
) -> None:
    old, new, _ = rotated
    (tmp_path / "key").write_bytes(KEY)
    code, out = run("--key-file", tmp_path / "key", "-q", new, old)
    assert code == EXIT_BROKEN
    assert [line.split(": ")[2] for line in out.splitlines()] == ["reordered"] * 3


def test_partial_files(rotated: tuple[Path, Path, str], tmp_path: Path) -> None:
    _, new, _ = rotated
    (tmp_path / "key").write_bytes(KEY)
    assert run("--key-file", tmp_path / "key", new)[0] == EXIT_BROKEN
    assert run("--key-file", tmp_path / "key", "--allow-partial", new)[0] == EXIT_OK


def test_stdin(
    rotated: tuple[Path, Path, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    old, _, _ = rotated
    monkeypatch.setattr("sys.stdin", io.StringIO(old.read_text()))
    (tmp_path / "key").write_bytes(KEY)
    assert run("--key-file", tmp_path / "key", "-")[0] == EXIT_OK


def test_many_problems_are_capped(tmp_path: Path) -> None:
    write_lines(tmp_path / "a.jsonl", IntegrityChain(KEY), 0, 150)
    (tmp_path / "key").write_bytes(b"some other key, long enough")
    code, out = run("--key-file", tmp_path / "key", "-q", tmp_path / "a.jsonl")
    assert code == EXIT_BROKEN
    lines = out.splitlines()
    assert len(lines) == 101 and lines[-1] == "... and 50 more problems"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["x.jsonl"], "give the key with --key-env VAR or --key-file PATH"),
        (["--key-env", "SEC_AUDIT_TEST_UNSET", "x.jsonl"], "named by --key-env is not set"),
        (["--key-file", "/nonexistent/key", "x.jsonl"], "cannot read key file '/nonexistent/key'"),
        (["--key-env", "bad id=V", "x.jsonl"], "invalid key id in --key-env (expected"),
        (["--key-env", "K", "--key-env", "K", "x.jsonl"], "key id of --key-env #2 is given twice"),
        (["--key-env", "EMPTY", "x.jsonl"], "environment variable named by --key-env is empty"),
        (["--key-env", "K", "/nonexistent/audit.jsonl"], "cannot read '/nonexistent/audit.jsonl'"),
    ],
)
def test_usage_errors(
    argv: list[str],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("SEC_AUDIT_TEST_UNSET", raising=False)
    monkeypatch.setenv("K", KEY.decode())
    monkeypatch.setenv("EMPTY", "")
    assert run(*argv) == (EXIT_USAGE, "")
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "pasted",
    [
        "c2VjcmV0LWtleS1tYXRlcmlhbC0xMjM0NTY=",  # base64 with '=' padding
        "k2=sk_live_0123456789abcdef!",
        "0123456789abcdef0123456789abcdef",  # hex: not a variable name (leading digit)
        "hunter2 hunter2 hunter2 hunter2",
        "SOMEKEYTHATLOOKSLIKEANAME_0123456789",  # a valid name that is not set
    ],
)
def test_key_env_never_echoes_its_argument(
    pasted: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Issue 11.5: users paste the key itself after --key-env.
    monkeypatch.delenv(pasted, raising=False)
    assert run("--key-env", pasted, "x.jsonl") == (EXIT_USAGE, "")
    err = capsys.readouterr().err
    assert "--key-env" in err
    for part in [pasted, *pasted.split("=")]:
        if len(part) >= 4:
            assert part not in err


def test_argparse_usage_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert run() == (EXIT_USAGE, "")
    assert "usage: sec-audit verify" in capsys.readouterr().err
    assert run("--help")[0] == EXIT_OK
    assert "Exit status: 0 intact, 1 broken, 2 usage error" in capsys.readouterr().out
