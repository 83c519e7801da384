"""Build the pure-Python wheel (py3-none-any): the same package without the extension.

Usage: python scripts/build_pure_wheel.py [OUTDIR]

maturin always compiles the extension, so this small builder writes the wheel itself
(PEP 427): python/sec_audit/** (no compiled files) plus a dist-info generated from
pyproject.toml. The package then runs on its Python reference engine.
"""

from __future__ import annotations

import base64
import hashlib
import sys
import zipfile
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent
SKIP_SUFFIXES = {".so", ".pyd", ".pyc", ".dll", ".dylib"}


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def _metadata(project: dict) -> str:
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {project['name']}",
        f"Version: {project['version']}",
        f"Summary: {project['description']}",
        f"Requires-Python: {project['requires-python']}",
        "License: MIT",
    ]
    lines += [f"Requires-Dist: {dep}" for dep in project.get("dependencies", [])]
    for extra, deps in project.get("optional-dependencies", {}).items():
        lines.append(f"Provides-Extra: {extra}")
        lines += [f'Requires-Dist: {dep}; extra == "{extra}"' for dep in deps]
    lines.append("Description-Content-Type: text/markdown")
    return "\n".join(lines) + "\n\n" + (ROOT / "README.md").read_text(encoding="utf-8")


def build(outdir: Path) -> Path:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    dist = project["name"].replace("-", "_")
    version = project["version"]
    info = f"{dist}-{version}.dist-info"
    outdir.mkdir(parents=True, exist_ok=True)
    wheel_path = outdir / f"{dist}-{version}-py3-none-any.whl"
    records: list[str] = []
    with zipfile.ZipFile(wheel_path, "w", zipfile.ZIP_DEFLATED) as zf:

        def add(name: str, data: bytes) -> None:
            zf.writestr(name, data)
            records.append(_record_line(name, data))

        pkg = ROOT / "python"
        for path in sorted((pkg / "sec_audit").rglob("*")):
            if path.is_dir() or path.suffix in SKIP_SUFFIXES or "__pycache__" in path.parts:
                continue
            add(path.relative_to(pkg).as_posix(), path.read_bytes())
        add(f"{info}/METADATA", _metadata(project).encode())
        add(
            f"{info}/WHEEL",
            b"Wheel-Version: 1.0\nGenerator: django-sec-audit build_pure_wheel\n"
            b"Root-Is-Purelib: true\nTag: py3-none-any\n",
        )
        scripts = project.get("scripts", {})
        entry = "[console_scripts]\n" + "".join(f"{k} = {v}\n" for k, v in scripts.items())
        add(f"{info}/entry_points.txt", entry.encode())
        records.append(f"{info}/RECORD,,")
        zf.writestr(f"{info}/RECORD", "\n".join(records) + "\n")
    return wheel_path


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "dist"
    print(build(out))
