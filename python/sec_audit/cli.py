"""The `sec-audit` command: `info`, `scrub`, `loki-init`.

No Django needed: `--settings MODULE` imports a plain Python module and reads its
`SEC_AUDIT` dict (`MODULE:NAME` for another name); without it, the defaults apply.
Exit status: 0 ok, 1 some input was invalid or a file failed, 2 bad usage/settings.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from typing import Any, BinaryIO, TextIO

from sec_audit import __version__
from sec_audit.core.config import SecAuditSettings
from sec_audit.core.engine import ENGINE_ENV_VAR, EngineConfig, build_engine
from sec_audit.core.errors import AuditConfigurationError
from sec_audit.logging.degrade import shrink_line
from sec_audit.logging.loki import cli as loki_cli

__all__ = ["load_settings", "main"]


class UsageError(Exception):
    """Bad settings module or value: exit status 2."""


def load_settings(spec: str | None) -> SecAuditSettings:
    """`module` or `module:NAME` -> parsed SEC_AUDIT (defaults when spec is None)."""
    if spec is None:
        return SecAuditSettings.from_value(None)
    module_name, _, attr = spec.partition(":")
    if os.getcwd() not in sys.path:  # like `python -m`: modules next to the user
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise UsageError(f"cannot import settings module {module_name!r}: {exc}") from exc
    value = getattr(module, attr or "SEC_AUDIT", None)
    if value is None and attr:
        raise UsageError(f"{module_name!r} has no attribute {attr!r}")
    try:
        return SecAuditSettings.from_value(value)
    except AuditConfigurationError as exc:
        raise UsageError(str(exc)) from exc


def _engine(settings: SecAuditSettings) -> Any:
    limits = settings.logging.projection_limits
    return build_engine(EngineConfig.from_settings(settings.core, limits))


# -- info ------------------------------------------------------------------------------


def _summary(settings: SecAuditSettings, engine: Any) -> dict[str, Any]:
    core, limits = settings.core, settings.logging.projection_limits
    return {
        "version": __version__,
        "engine": engine.name,
        "engine_requested": os.environ.get(ENGINE_ENV_VAR, "auto"),
        "source": core.source,
        "schema_version": settings.logging.schema_version,
        "sensitive_keys": list(core.sensitive_keys),
        "sensitive_key_allowlist": list(core.sensitive_key_allowlist),
        "sensitive_value_patterns": engine.pattern_report(),
        "secret_detectors": list(core.secret_detectors),
        "sensitive_key_sets": list(core.sensitive_key_sets),
        "value_scrub_mode": core.value_scrub_mode,
        "projection_limits": asdict(limits),
        "filters": len(settings.django.filters),
        "enrichers": len(settings.django.enrichers),
    }


def _info(args: argparse.Namespace, out: TextIO) -> int:
    settings = load_settings(args.settings)
    summary = _summary(settings, _engine(settings))
    if args.json:
        out.write(json.dumps(summary, indent=2) + "\n")
        return 0
    limits = " ".join(f"{k}={v}" for k, v in summary["projection_limits"].items())
    lines = [
        f"sec-audit {summary['version']}",
        f"engine: {summary['engine']} ({ENGINE_ENV_VAR}={summary['engine_requested']})",
        f"settings: {args.settings or 'defaults'}",
        f"source: {summary['source']}",
        f"schema_version: {summary['schema_version']}",
        f"sensitive_keys: {', '.join(summary['sensitive_keys']) or '(none)'}",
        f"sensitive_key_allowlist: {', '.join(summary['sensitive_key_allowlist']) or '(none)'}",
        f"secret_detectors: {', '.join(summary['secret_detectors']) or '(none)'}",
        f"sensitive_key_sets: {', '.join(summary['sensitive_key_sets']) or '(none)'}",
        f"value_scrub_mode: {summary['value_scrub_mode']}",
        f"projection_limits: {limits}",
        f"filters: {summary['filters']}, enrichers: {summary['enrichers']}",
        f"sensitive_value_patterns: {len(summary['sensitive_value_patterns'])}",
    ]
    for item in summary["sensitive_value_patterns"]:
        reason = f" ({item['reason']})" if item.get("reason") else ""
        lines.append(f"  {item['pattern']!r}: {item['plan']}{reason}")
    out.write("\n".join(lines) + "\n")
    return 0


# -- scrub -----------------------------------------------------------------------------


def _sources(paths: Sequence[str], stdin: BinaryIO) -> Iterator[tuple[str, BinaryIO | None]]:
    for path in paths or ["-"]:
        if path == "-":
            yield "<stdin>", stdin
            continue
        try:
            handle = open(path, "rb")  # closed by _scrub
        except OSError as exc:
            yield f"{path}: {exc.strerror or exc}", None
            continue
        yield path, handle


def _scrub_line(raw: bytes, engine: Any, limit: int, compact: bool) -> str:
    """The re-rendered line, or raise ValueError with a reason (never the content)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 (byte {exc.start})") from None
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(record, dict):
        raise ValueError(f"not a JSON object ({type(record).__name__})")
    if not isinstance(record.get("attributes"), dict):
        raise ValueError("no 'attributes' object")
    line: str = engine.render(record, compact)
    if len(line) > limit:
        shrunk = shrink_line(line, limit, compact=compact)
        if shrunk is None:
            raise ValueError(f"exceeds max_record_bytes={limit} even when degraded")
        line = shrunk[0]
    return line


def _scrub(args: argparse.Namespace, stdin: BinaryIO, out: TextIO, err: TextIO) -> int:
    settings = load_settings(args.settings)
    engine = _engine(settings)
    limit = settings.logging.projection_limits.max_record_bytes
    status = 0
    for name, handle in _sources(args.files, stdin):
        if handle is None:
            err.write(f"sec-audit scrub: cannot read {name}\n")
            status = 1
            continue
        try:
            for number, raw in enumerate(handle, 1):
                raw = raw.rstrip(b"\r\n")
                if not raw.strip():
                    continue
                try:
                    out.write(_scrub_line(raw, engine, limit, args.compact) + "\n")
                except (ValueError, RecursionError) as exc:
                    err.write(f"{name}:{number}: invalid line: {exc}\n")
                    status = 1
        finally:
            if handle is not stdin:
                handle.close()
    return status


# -- entry point -------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sec-audit", description="django-sec-audit tools")
    parser.add_argument("--version", action="version", version=f"sec-audit {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    info = commands.add_parser("info", help="engine in use, version and settings summary")
    info.add_argument("--settings", metavar="MODULE", help="module holding SEC_AUDIT")
    info.add_argument("--json", action="store_true", help="machine-readable output")

    scrub = commands.add_parser(
        "scrub", help="re-scrub JSONL audit lines (files or stdin) with these settings"
    )
    scrub.add_argument("files", nargs="*", metavar="FILE", help="'-' or nothing for stdin")
    scrub.add_argument("--settings", metavar="MODULE", help="module holding SEC_AUDIT")
    scrub.add_argument("--compact", action="store_true", help="',' and ':' separators")

    commands.add_parser(
        "verify",
        help="check integrity-sealed JSONL streams (see docs/delivery.md)",
        add_help=False,
    )

    loki = commands.add_parser("loki-init", help="write a local Loki + Alloy + Grafana stack")
    loki_cli.add_arguments(loki)
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    stdin: BinaryIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["verify"]:
        # verify owns its whole argument list (keys, files, options).
        from sec_audit.verify import main as verify_main

        return verify_main(arguments[1:], stdout=out)
    args = build_parser().parse_args(arguments)
    try:
        if args.command == "info":
            return _info(args, out)
        if args.command == "scrub":
            return _scrub(args, stdin if stdin is not None else sys.stdin.buffer, out, err)
        return loki_cli.run(args, out, err)
    except UsageError as exc:
        err.write(f"sec-audit {args.command}: error: {exc}\n")
        return 2
    except (AuditConfigurationError, RuntimeError) as exc:  # engine selection problems
        err.write(f"sec-audit {args.command}: error: {exc}\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
