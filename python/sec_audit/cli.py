"""The `sec-audit` command: `info`, `scrub`, `loki-init`.

No Django needed: `--settings MODULE` imports a plain Python module and reads its
`SEC_AUDIT` dict (`MODULE:NAME` for another name); without it, the defaults apply.
`info` without `--settings` reads the Django project's `SEC_AUDIT` when
DJANGO_SETTINGS_MODULE is set.
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
from sec_audit.logging.integrity import MEMBER_KEY, IntegrityChain
from sec_audit.logging.loki import cli as loki_cli
from sec_audit.logging.pipeline import AuditPipeline

__all__ = ["load_settings", "main"]


class UsageError(Exception):
    """Bad settings module or value: exit status 2."""


def load_settings(spec: str | None) -> SecAuditSettings:
    """`module` or `module:NAME` -> parsed SEC_AUDIT (defaults when spec is None)."""
    if spec is None:
        return SecAuditSettings.from_value(None)
    module_name, _, attr = spec.partition(":")
    _cwd_on_path()
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise UsageError(f"cannot import settings module {module_name!r}: {exc}") from exc
    value = getattr(module, attr or "SEC_AUDIT", None)
    if value is None and attr:
        raise UsageError(f"{module_name!r} has no attribute {attr!r}")
    return _parse(value)


def _cwd_on_path() -> None:
    if os.getcwd() not in sys.path:  # like `python -m`: modules next to the user
        sys.path.insert(0, os.getcwd())


def _parse(value: object) -> SecAuditSettings:
    try:
        return SecAuditSettings.from_value(value)
    except AuditConfigurationError as exc:
        raise UsageError(str(exc)) from exc


DJANGO_SETTINGS_ENV = "DJANGO_SETTINGS_MODULE"


def resolve_settings(spec: str | None) -> tuple[SecAuditSettings, str]:
    """(settings, where they came from): `--settings`, else the Django project named by
    DJANGO_SETTINGS_MODULE (read through `django.conf.settings`), else the defaults."""
    if spec is not None:
        return load_settings(spec), spec
    module_name = os.environ.get(DJANGO_SETTINGS_ENV)
    if not module_name:
        return load_settings(None), "defaults"
    _cwd_on_path()
    try:
        from django.conf import settings as django_settings
    except ImportError:
        raise UsageError(f"{DJANGO_SETTINGS_ENV} is set but Django is not installed") from None
    try:
        value = getattr(django_settings, "SEC_AUDIT", None)
    except Exception as exc:
        raise UsageError(f"cannot load Django settings {module_name!r}: {exc}") from exc
    return _parse(value), f"django ({DJANGO_SETTINGS_ENV}={module_name})"


def _engine(settings: SecAuditSettings) -> Any:
    limits = settings.logging.projection_limits
    return build_engine(EngineConfig.from_settings(settings.core, limits))


# -- info ------------------------------------------------------------------------------


def _patterns(patterns: Sequence[Any]) -> list[str]:
    return [p.pattern for p in patterns]


def _name(spec: object) -> str:
    if isinstance(spec, str):
        return spec
    module = getattr(spec, "__module__", None)
    qualname = getattr(spec, "__qualname__", None) or type(spec).__qualname__
    return f"{module}.{qualname}" if module else str(qualname)


def _summary(settings: SecAuditSettings, engine: Any) -> dict[str, Any]:
    core, limits = settings.core, settings.logging.projection_limits
    django = settings.django
    integrity = settings.logging.integrity
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
        "filters": len(django.filters),
        "enrichers": len(django.enrichers),
        # Sections: one name -> flat dict each, printed as `name:` + indented lines.
        "events": {
            "log_ok_responses": core.log_ok_responses,
            "ignore_paths": _patterns(core.ignore_paths),
            "ignore_status_codes": sorted(core.ignore_status_codes),
            "sample_rate": core.sample_rate,
            "log_url_query": core.log_url_query,
        },
        "body_capture": {
            "log_request_bodies": core.log_request_bodies,
            "log_body_paths": _patterns(core.log_body_paths),
            "body_methods": sorted(core.body_methods),
            "max_body_bytes": core.max_body_bytes,
            "body_field_allowlist": list(core.body_field_allowlist),
        },
        "integrity": {
            "enabled": integrity is not None,
            "key_id": integrity.key_id if integrity is not None else None,
            "key_from": (
                None
                if integrity is None
                else f"env {integrity.key_env}"
                if integrity.key_env
                else "settings"
            ),
        },
        "django": {
            "include_usernames": django.include_usernames,
            "emit_session_id": django.emit_session_id,
            "drf_enabled": "auto" if django.drf_enabled is None else django.drf_enabled,
            "model_events_enabled": (
                "auto" if django.model_events_enabled is None else django.model_events_enabled
            ),
            "trusted_proxy_cidrs": list(django.trusted_proxy_cidrs),
            "trusted_proxy_count": django.trusted_proxy_count,
            "filters": [_name(f) for f in django.filters],
            "enrichers": [_name(e) for e in django.enrichers],
        },
    }


# The sections `info` prints after the top lines, in order (extend here).
INFO_SECTIONS = ("events", "body_capture", "integrity", "django")


def _text(value: object) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value) or "(none)"
    if value is None:
        return "-"
    return str(value)


def _info(args: argparse.Namespace, out: TextIO) -> int:
    settings, origin = resolve_settings(args.settings)
    # Import the filters and enrichers as Django would: a bad dotted path is an error.
    try:
        AuditPipeline(settings.django.filters, settings.django.enrichers)
    except AuditConfigurationError as exc:
        raise UsageError(str(exc)) from exc
    summary = _summary(settings, _engine(settings))
    summary["settings"] = origin
    if args.json:
        out.write(json.dumps(summary, indent=2) + "\n")
        return 0
    limits = " ".join(f"{k}={v}" for k, v in summary["projection_limits"].items())
    lines = [
        f"sec-audit {summary['version']}",
        f"engine: {summary['engine']} ({ENGINE_ENV_VAR}={summary['engine_requested']})",
        f"settings: {origin}",
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
        # Which engine path runs it, where the rest of the windows go, and whether
        # every path is bounded (docs/security.md, *Value patterns cannot hang*).
        other = f", other windows: {item['other_windows']}" if item.get("other_windows") else ""
        bounded = "bounded" if item["bounded"] else "UNBOUNDED"
        lines.append(f"  {item['pattern']!r}: {item['path']}{other}; {bounded} ({item['reason']})")
    for section in INFO_SECTIONS:
        lines.append(f"{section}:")
        lines.extend(f"  {key}: {_text(value)}" for key, value in summary[section].items())
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


def _scrub_line(
    raw: bytes, engine: Any, limit: int, compact: bool, sealed: list[int] | None = None
) -> str:
    """The re-rendered line, or raise ValueError with a reason (never the content).

    A sealed line's `integrity` member is dropped (a re-scrubbed line no longer matches
    its HMAC); `sealed[0]` counts them.
    """
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
    if MEMBER_KEY in record:
        del record[MEMBER_KEY]
        if sealed is not None:
            sealed[0] += 1
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
    integrity = settings.logging.integrity
    # With integrity in the settings the output is sealed again, as one new stream.
    chain = IntegrityChain.from_config(integrity) if integrity is not None else None
    if chain is not None:
        limit -= chain.member_bytes(args.compact)
    sealed = [0]
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
                    text = _scrub_line(raw, engine, limit, args.compact, sealed)
                    out.write((chain.seal(text) if chain is not None else text) + "\n")
                except (ValueError, RecursionError) as exc:
                    err.write(f"{name}:{number}: invalid line: {exc}\n")
                    status = 1
        finally:
            if handle is not stdin:
                handle.close()
    if sealed[0] and chain is not None:
        err.write(
            f"sec-audit scrub: {sealed[0]} sealed line(s) re-sealed as a new stream "
            f"({chain.stream}, key id {chain.key_id!r}); verify the output on its own\n"
        )
    elif sealed[0]:
        err.write(
            f"sec-audit scrub: {sealed[0]} sealed line(s): integrity member removed, the "
            "output is NOT sealed (give --settings with SEC_AUDIT['logging']['integrity'] "
            "to re-seal it)\n"
        )
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
