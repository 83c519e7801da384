"""`sec-audit-loki-init TARGET_DIR [options]` (also `sec-audit loki-init`).

Exit status: 0 done (files may have been kept), 1 filesystem error, 2 bad usage or
an option value that cannot be written safely.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from .setup import DEFAULTS, InitResult, InvalidValueError, init_monitoring

__all__ = ["add_arguments", "main", "run"]

WARNING = (
    "WARNING: this stack is for local use only. Its ports are bound to 127.0.0.1, Loki "
    "runs without authentication, and the Grafana password is stored in plain text in "
    "docker-compose.yml. Do not expose it or reuse these credentials elsewhere."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target_dir", metavar="TARGET_DIR", help="directory to write into")
    parser.add_argument(
        "--app-label",
        default=DEFAULTS["app_label"],
        help="must equal SEC_AUDIT['core']['source'] (the service_name label)",
    )
    parser.add_argument("--environment", default=DEFAULTS["environment"])
    parser.add_argument(
        "--audit-log-path",
        default=DEFAULTS["audit_log_path"],
        help="host path of the audit log file, relative to TARGET_DIR",
    )
    parser.add_argument("--grafana-admin-user", default=DEFAULTS["grafana_admin_user"])
    parser.add_argument(
        "--grafana-admin-password", default=None, help="default: a generated random password"
    )
    parser.add_argument("--dashboard-title", default=DEFAULTS["dashboard_title"])
    parser.add_argument("--overwrite", action="store_true", help="replace files that already exist")


def _report(result: InitResult, out: TextIO) -> None:
    target = result.target.resolve()
    if result.written:
        out.write(f"Wrote {len(result.written)} file(s) under {target}:\n")
        for path in result.written:
            out.write(f"  {path.relative_to(result.target).as_posix()}\n")
    if result.kept:
        out.write(f"Kept {len(result.kept)} existing file(s) (use --overwrite to replace):\n")
        for path in result.kept:
            out.write(f"  {path.relative_to(result.target).as_posix()}\n")
    out.write("\nGrafana: http://127.0.0.1:3000\n")
    if result.grafana_admin_user is not None:
        out.write(f"  user:     {result.grafana_admin_user}\n")
    if result.grafana_admin_password is None:
        out.write("  password: unchanged (kept in the existing docker-compose.yml)\n")
    else:
        origin = " (generated)" if result.password_generated else ""
        if (target / "docker-compose.yml") in {p.resolve() for p in result.kept}:
            origin = " (from the existing docker-compose.yml)"
        out.write(f"  password: {result.grafana_admin_password}{origin}\n")
    if result.password_not_applied:
        out.write(
            "  NOTE: --grafana-admin-password was NOT applied: docker-compose.yml was kept. "
            "Re-run with --overwrite to change it.\n"
        )
    out.write(f"\n{WARNING}\n")


def run(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    try:
        result = init_monitoring(
            args.target_dir,
            app_label=args.app_label,
            environment=args.environment,
            audit_log_path=args.audit_log_path,
            grafana_admin_user=args.grafana_admin_user,
            grafana_admin_password=args.grafana_admin_password,
            dashboard_title=args.dashboard_title,
            overwrite=args.overwrite,
        )
    except InvalidValueError as exc:
        err.write(f"sec-audit-loki-init: error: {exc}\n")
        return 2
    except OSError as exc:
        err.write(f"sec-audit-loki-init: error: cannot write {args.target_dir}: {exc}\n")
        return 1
    _report(result, out)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="sec-audit-loki-init",
        description="Write a local Loki + Alloy + Grafana stack for django-sec-audit lines.",
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
