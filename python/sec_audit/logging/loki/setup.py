"""`copy_monitoring_assets`: write the Loki/Alloy/Grafana stack into a directory.

Fixes B8 of the original: values are escaped per file type (see `escape`), existing
files are kept unless `overwrite`, and the caller learns the Grafana password that is
actually on disk (read back from a kept docker-compose.yml), never a fresh one that
matches nothing.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .templating import iter_templates, render_template

__all__ = [
    "DEFAULTS",
    "InitResult",
    "InvalidValueError",
    "copy_monitoring_assets",
    "init_monitoring",
    "read_compose_credentials",
]

DEFAULTS: dict[str, str] = {
    "app_label": "django-sec-audit",
    "environment": "demo",
    "audit_log_path": "../logs/sec-audit.jsonl",
    "grafana_admin_user": "admin",
    "dashboard_title": "Sec Audit Monitoring",
}
COMPOSE_FILE = "docker-compose.yml"
_MAX_VALUE_CHARS = 1024
_MAX_APP_LABEL_CHARS = 256  # as SEC_AUDIT['core']['source']
_SECRET_FILES = frozenset({COMPOSE_FILE})  # hold the Grafana password: owner-only


class InvalidValueError(ValueError):
    """An option value that cannot be written safely (the CLI exits with status 2)."""


@dataclass
class InitResult:
    target: Path
    written: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)
    grafana_admin_user: str | None = None
    # None when the kept docker-compose.yml could not be read back.
    grafana_admin_password: str | None = None
    password_generated: bool = False
    # True when an explicit password was given but the kept file has another one.
    password_not_applied: bool = False


def _check(option: str, value: object, limit: int = _MAX_VALUE_CHARS) -> str:
    if not isinstance(value, str):
        raise InvalidValueError(f"--{option.replace('_', '-')} must be a string")
    flag = f"--{option.replace('_', '-')}"
    if not value.strip():
        raise InvalidValueError(f"{flag} must not be empty")
    if len(value) > limit:
        raise InvalidValueError(f"{flag} is longer than {limit} characters")
    if "\x00" in value:
        raise InvalidValueError(f"{flag} must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidValueError(f"{flag} is not valid text (undecodable bytes)") from exc
    return value


def _values(options: dict[str, str]) -> dict[str, str]:
    path = options["audit_log_path"].replace("\\", "/")
    directory, name = posixpath.split(path)
    if not name or name in (".", ".."):
        raise InvalidValueError("--audit-log-path must name a file, not a directory")
    return {
        "APP_LABEL": options["app_label"],
        "ENVIRONMENT": options["environment"],
        "AUDIT_LOG_PATH": options["audit_log_path"],
        "AUDIT_LOG_DIR": directory or ".",
        "AUDIT_LOG_FILE": name,
        "GRAFANA_ADMIN_USER": options["grafana_admin_user"],
        "GRAFANA_ADMIN_PASSWORD": options["grafana_admin_password"],
        "DASHBOARD_TITLE": options["dashboard_title"],
    }


_COMPOSE_ENV = re.compile(r'^\s*(GF_SECURITY_ADMIN_(?:USER|PASSWORD)): "((?:[^"\\]|\\.)*)"\s*$')


def read_compose_credentials(path: Path) -> dict[str, str]:
    """The Grafana user/password in a docker-compose.yml we generated (best effort)."""
    found: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return found
    for line in text.splitlines():
        match = _COMPOSE_ENV.match(line)
        if match:
            try:
                # Our YAML escapes are JSON escapes; then undo compose's `$$`.
                value = json.loads(f'"{match.group(2)}"').replace("$$", "$")
            except ValueError:
                continue
            found[match.group(1)] = value
    return found


def _write(path: Path, text: str, *, secret: bool) -> None:
    """Write via a temporary file in the same directory, then replace."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.chmod(temp, 0o600 if secret else 0o644)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def init_monitoring(
    target_dir: str | os.PathLike[str],
    *,
    app_label: str = DEFAULTS["app_label"],
    environment: str = DEFAULTS["environment"],
    audit_log_path: str = DEFAULTS["audit_log_path"],
    grafana_admin_user: str = DEFAULTS["grafana_admin_user"],
    grafana_admin_password: str | None = None,
    dashboard_title: str = DEFAULTS["dashboard_title"],
    overwrite: bool = False,
) -> InitResult:
    """Render every template into `target_dir`; see `InitResult` for what happened.

    Raises `InvalidValueError` for unusable values and `OSError` when the directory
    cannot be created or written.
    """
    generated = grafana_admin_password is None
    password = (
        secrets.token_urlsafe(16) if grafana_admin_password is None else grafana_admin_password
    )
    options = {
        "app_label": _check("app_label", app_label, _MAX_APP_LABEL_CHARS),
        "environment": _check("environment", environment),
        "audit_log_path": _check("audit_log_path", audit_log_path),
        "grafana_admin_user": _check("grafana_admin_user", grafana_admin_user),
        "grafana_admin_password": _check("grafana_admin_password", password),
        "dashboard_title": _check("dashboard_title", dashboard_title),
    }
    values = _values(options)
    target = Path(target_dir)
    if target.exists() and not target.is_dir():
        raise NotADirectoryError(f"{target} exists and is not a directory")
    # django_logging.py names the log file absolutely: settings.py is not in TARGET_DIR.
    values["AUDIT_LOG_ABSPATH"] = os.path.normpath(
        os.path.join(os.path.abspath(target), options["audit_log_path"])
    )
    # Render everything before writing anything: a template error leaves no half tree.
    rendered = [(rel, render_template(rel, text, values)) for rel, text in iter_templates()]
    target.mkdir(parents=True, exist_ok=True)
    result = InitResult(target=target)
    for relative, text in rendered:
        path = target.joinpath(*relative.split("/"))
        if path.exists() and not overwrite:
            result.kept.append(path)
            continue
        _write(path, text, secret=relative in _SECRET_FILES)
        result.written.append(path)

    compose = target / COMPOSE_FILE
    if compose in result.kept:
        on_disk = read_compose_credentials(compose)
        result.grafana_admin_user = on_disk.get("GF_SECURITY_ADMIN_USER")
        result.grafana_admin_password = on_disk.get("GF_SECURITY_ADMIN_PASSWORD")
        result.password_not_applied = (
            not generated and result.grafana_admin_password != grafana_admin_password
        )
    else:
        result.grafana_admin_user = options["grafana_admin_user"]
        result.grafana_admin_password = password
        result.password_generated = generated
    return result


def copy_monitoring_assets(target_dir: str | os.PathLike[str], **options: object) -> list[Path]:
    """The original's API: render the stack into `target_dir`; the files written."""
    return init_monitoring(target_dir, **options).written  # type: ignore[arg-type]
